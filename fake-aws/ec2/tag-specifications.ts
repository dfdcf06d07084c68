/**
 * Tags as EC2 takes them: on CreateTags, and on a create call's `TagSpecification.N`
 * (`ResourceType`, `Tag.M.Key`, `Tag.M.Value`), which EC2 applies in the same call as the
 * create, so a resource is never seen untagged.
 */
import { FakeAwsError } from '../errors.ts';
import { readTags } from '../query-params.ts';
import { ec2Errors } from './errors.ts';

/** Keys EC2 refuses on any tagging call. */
export function assertWritableTagKey(key: string): void {
  if (!key) throw ec2Errors.invalidValue('Tag key cannot be empty');
  if (key.startsWith('aws:')) throw ec2Errors.invalidValue("Tag keys starting with 'aws:' are reserved for internal use");
}

/** The tags a create call asks for on the resource it creates; another resource type is refused, as EC2 does. */
export function readTagSpecifications(params: URLSearchParams, resourceType: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (let n = 1; params.has(`TagSpecification.${n}.ResourceType`) || params.has(`TagSpecification.${n}.Tag.1.Key`); n++) {
    const type = params.get(`TagSpecification.${n}.ResourceType`);
    if (!type) throw new FakeAwsError('InvalidTagSpecification.Malformed', 'The resource type cannot be null or empty.');
    if (type !== resourceType) throw ec2Errors.invalidValue(`'${type}' is not a valid taggable resource type for this operation.`);
    for (const { key, value } of readTags(params, `TagSpecification.${n}.Tag`)) {
      assertWritableTagKey(key);
      tags[key] = value ?? '';
    }
  }
  return tags;
}
