/**
 * The resources an SSM call is authorized against (Service Authorization Reference):
 * a parameter by its ARN (the name without its leading slash; GetParametersByPath the
 * path's), SendCommand the document and each target instance, GetCommandInvocation none.
 */
import { NO_RESOURCES, tagsOf, type Arns, type CallResources } from '../call-recorder.ts';
import type { Ec2State } from '../ec2/state.ts';
import type { FakeSsm } from './fake-ssm.ts';

export function ssmCallResources(ssm: FakeSsm, ec2: Ec2State, arns: Arns, action: string, body: Record<string, unknown>): CallResources {
  const text = (key: string) => (typeof body[key] === 'string' ? body[key] : '');
  switch (action) {
    case 'PutParameter':
    case 'GetParameter':
    case 'DeleteParameter':
      return { resources: [{ arn: ssm.parameterArn(text('Name')), tags: {} }], requestKeys: {} };
    case 'GetParametersByPath':
      return { resources: [{ arn: ssm.parameterArn(text('Path')), tags: {} }], requestKeys: {} };
    case 'SendCommand': {
      const document = text('DocumentName');
      const documentArn = document.startsWith('arn:') ? document : arns.of('ssm', `document/${document}`, document.startsWith('AWS-') ? '' : arns.accountId);
      const instanceIds = Array.isArray(body.InstanceIds) ? body.InstanceIds.filter((id) => typeof id === 'string') : [];
      const instances = instanceIds.map((id) => ({ arn: arns.of('ec2', `instance/${id}`), tags: tagsOf(ec2.instance(id)?.tags) }));
      return { resources: [{ arn: documentArn, tags: {} }, ...instances], requestKeys: {} };
    }
    default:
      return NO_RESOURCES;
  }
}
