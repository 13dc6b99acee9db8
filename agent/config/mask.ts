/** Keys whose values `config check` never prints (SPEC §7: no secret in `config check` output). */
const SECRET_KEY = /secret|password|passphrase|token|credential|private/i;
const URL_PASSWORD = /(\/\/[^/:@\s]+:)[^@\s/]+@/g;

/** A deep copy of `value` with secret-looking keys masked and passwords in URLs hidden. */
export function maskSecrets(value: unknown, key = ''): unknown {
  if (SECRET_KEY.test(key) && value !== '' && value !== null && value !== undefined) return '********';
  if (typeof value === 'string') return value.replace(URL_PASSWORD, '$1********@');
  if (Array.isArray(value)) return value.map((item) => maskSecrets(item));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([name, child]) => [name, maskSecrets(child, name)]));
  }
  return value;
}
