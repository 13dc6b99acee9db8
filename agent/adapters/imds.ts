import { MetadataService } from '@aws-sdk/ec2-metadata-service';

/** What the instance metadata service (IMDSv2) tells about this instance; absent fields stay null. */
export interface InstanceMetadata {
  instance_id: string;
  private_ip: string | null;
  public_ip: string | null;
  ami_id: string | null;
  instance_type: string | null;
  availability_zone: string | null;
  region: string | null;
}

/** A real IMDS answers in milliseconds; off EC2 nothing answers and we must not wait (FIELD-NOTES: 3.6 s by default). */
const IMDS_TIMEOUT_MS = 1000;

/**
 * Reads IMDSv2 (token flow by the SDK; AWS_EC2_METADATA_SERVICE_ENDPOINT honoured). Resolves null
 * when no metadata service answers: the caller falls back to the hostname.
 */
export async function readInstanceMetadata(env: NodeJS.ProcessEnv = process.env): Promise<InstanceMetadata | null> {
  const service = new MetadataService({
    ...(env.AWS_EC2_METADATA_SERVICE_ENDPOINT ? { endpoint: env.AWS_EC2_METADATA_SERVICE_ENDPOINT } : {}),
    httpOptions: { timeout: IMDS_TIMEOUT_MS },
    retries: 0,
    ec2MetadataV1Disabled: true,
  });
  const get = async (path: string): Promise<string | null> => {
    try {
      return (await service.request(`latest/meta-data/${path}`, {})).trim() || null;
    } catch {
      return null;
    }
  };
  const instanceId = await get('instance-id');
  if (!instanceId) return null;
  const [privateIp, publicIp, amiId, instanceType, zone, region] = await Promise.all(
    ['local-ipv4', 'public-ipv4', 'ami-id', 'instance-type', 'placement/availability-zone', 'placement/region'].map(get),
  );
  return {
    instance_id: instanceId,
    private_ip: privateIp ?? null,
    public_ip: publicIp ?? null,
    ami_id: amiId ?? null,
    instance_type: instanceType ?? null,
    availability_zone: zone ?? null,
    region: region ?? null,
  };
}
