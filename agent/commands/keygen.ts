import type { ParsedCommand } from '../cli.js';
import type { CommandIo } from './io.js';
import { writeKeyPair } from '../release/key-files.js';

/** `agent keygen --out PREFIX`: the publisher's Ed25519 key pair (SPEC §2). */
export async function keygenCommand(command: ParsedCommand, io: CommandIo): Promise<number> {
  const { keyFile, pubFile } = await writeKeyPair(command.values.out as string);
  io.stdout.write(`${keyFile}  private key (mode 0600): keep it off the servers, sign releases with \`agent publish DIR --key ${keyFile}\`\n`);
  io.stdout.write(`${pubFile}  public key: ship it in the image and list it in verify.public_keys\n`);
  return 0;
}
