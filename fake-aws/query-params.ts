/**
 * Readers for AWS Query-protocol parameters (form-encoded), as the SDK sends them:
 * EC2 flattens lists as `VolumeId.1`, `Filter.1.Name`, `Filter.1.Value.1`;
 * Auto Scaling as `InstanceIds.member.1`; SNS flattens a map as `Attributes.entry.1.key`
 * and `Attributes.entry.1.value`.
 */
export function readList(params: URLSearchParams, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; params.has(`${prefix}.${i}`); i++) out.push(params.get(`${prefix}.${i}`)!);
  return out;
}

export interface QueryFilter {
  name: string;
  values: string[];
}

export function readFilters(params: URLSearchParams, prefix = 'Filter'): QueryFilter[] {
  const out: QueryFilter[] = [];
  for (let i = 1; params.has(`${prefix}.${i}.Name`); i++) {
    out.push({ name: params.get(`${prefix}.${i}.Name`)!, values: readList(params, `${prefix}.${i}.Value`) });
  }
  return out;
}

/** `Tag.1.Key` / `Tag.1.Value` (EC2 CreateTags, DeleteTags). */
export function readTags(params: URLSearchParams, prefix = 'Tag'): { key: string; value: string | undefined }[] {
  const out: { key: string; value: string | undefined }[] = [];
  for (let i = 1; params.has(`${prefix}.${i}.Key`); i++) {
    out.push({ key: params.get(`${prefix}.${i}.Key`)!, value: params.get(`${prefix}.${i}.Value`) ?? undefined });
  }
  return out;
}

/** `Attributes.entry.1.key` / `Attributes.entry.1.value` (SNS Subscribe): a key without a value maps to ''. */
export function readMap(params: URLSearchParams, prefix: string): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 1; params.has(`${prefix}.entry.${i}.key`); i++) {
    out.set(params.get(`${prefix}.entry.${i}.key`)!, params.get(`${prefix}.entry.${i}.value`) ?? '');
  }
  return out;
}
