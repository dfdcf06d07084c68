import type { Arns } from '../call-recorder.ts';
import type { Ec2State } from '../ec2/state.ts';
import { FakeAwsError } from '../errors.ts';
import { decodePageToken, pageAfter } from '../page-token.ts';
import type { JsonService } from '../protocol.ts';
import { ssmCallResources } from './call-resources.ts';
import type { CommandInvocation, SentCommand } from './commands.ts';
import type { FakeSsm } from './fake-ssm.ts';
import {
  epochSeconds,
  optionalBoolean,
  optionalInteger,
  optionalString,
  requiredString,
  stringList,
  validation,
} from './input.ts';
import type { StoredParameter } from './parameters.ts';

type Body = Record<string, unknown>;
type Handler = (ssm: FakeSsm, body: Body) => unknown;

/** GetParametersByPath serves at most 10 per page; GetParameters takes at most 10 names. */
const MAX_PAGE = 10;

const parameterActions: Record<string, Handler> = {
  PutParameter(ssm, body) {
    const stored = ssm.parameters.put({
      name: requiredString(body, 'Name'),
      value: requiredString(body, 'Value'),
      type: optionalString(body, 'Type'),
      overwrite: optionalBoolean(body, 'Overwrite'),
      description: optionalString(body, 'Description'),
      tier: optionalString(body, 'Tier'),
      hasTags: Array.isArray(body.Tags) && body.Tags.length > 0,
    });
    return { Version: stored.version, Tier: stored.tier };
  },

  GetParameter(ssm, body) {
    const found = ssm.parameters.require(requiredString(body, 'Name'));
    return { Parameter: render(ssm, found, optionalBoolean(body, 'WithDecryption') ?? false) };
  },

  GetParameters(ssm, body) {
    const names = [...new Set(stringList(body, 'Names', 1, MAX_PAGE))];
    const decrypt = optionalBoolean(body, 'WithDecryption') ?? false;
    const found = names.map((n) => ssm.parameters.get(n)).filter((p) => p !== undefined);
    return {
      Parameters: found.map((p) => render(ssm, p, decrypt)),
      InvalidParameters: names.filter((n) => !ssm.parameters.get(n)),
    };
  },

  GetParametersByPath(ssm, body) {
    const path = requiredString(body, 'Path');
    if (!path.startsWith('/')) throw validation('The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/".');
    const limit = optionalInteger(body, 'MaxResults', 1, MAX_PAGE) ?? MAX_PAGE;
    const token = optionalString(body, 'NextToken');
    const after = token === undefined ? undefined : decodePageToken(token, 'string', invalidNextToken);
    const all = ssm.parameters.underPath(path, optionalBoolean(body, 'Recursive') ?? false);
    const { page, nextToken } = pageAfter(all, (p) => p.name, after, limit);
    const decrypt = optionalBoolean(body, 'WithDecryption') ?? false;
    return {
      Parameters: page.map((p) => render(ssm, p, decrypt)),
      ...(nextToken === undefined ? {} : { NextToken: nextToken }),
    };
  },

  DeleteParameter(ssm, body) {
    ssm.parameters.delete(requiredString(body, 'Name'));
    return {};
  },
};

const commandActions: Record<string, Handler> = {
  SendCommand(ssm, body) {
    const parameters = readCommandParameters(body.Parameters);
    const command = ssm.commands.send({
      documentName: requiredString(body, 'DocumentName'),
      instanceIds: stringList(body, 'InstanceIds', 1, 50),
      parameters,
      comment: optionalString(body, 'Comment') ?? '',
      timeoutSeconds: optionalInteger(body, 'TimeoutSeconds', 30, 2_592_000) ?? 3600,
    });
    return { Command: renderCommand(command) };
  },

  GetCommandInvocation(ssm, body) {
    const invocation = ssm.commands.invocation(requiredString(body, 'CommandId'), requiredString(body, 'InstanceId'));
    return renderInvocation(invocation);
  },
};

/** The fake SSM on the JSON 1.1 protocol (`X-Amz-Target: AmazonSSM.<Action>`). */
export function createSsmService(ssm: FakeSsm, ec2: Ec2State, arns: Arns): JsonService {
  return {
    kind: 'json',
    name: 'SSM',
    targetPrefix: 'AmazonSSM',
    iamPrefix: 'ssm',
    callResources: (action, body) => ssmCallResources(ssm, ec2, arns, action, body),
    handle(action, body) {
      const parameterAction = parameterActions[action];
      if (parameterAction) {
        ssm.throttling.take(action);
        return parameterAction(ssm, body);
      }
      const commandAction = commandActions[action];
      if (commandAction) return commandAction(ssm, body);
      throw new FakeAwsError('UnknownOperationException', `fake SSM does not implement ${action}`);
    },
  };
}

function render(ssm: FakeSsm, p: StoredParameter, decrypt: boolean): Body {
  return {
    Name: p.name,
    Type: p.type,
    // Without decryption a SecureString comes back as KMS ciphertext; this stands in for it.
    Value: p.type === 'SecureString' && !decrypt ? Buffer.from(`fake-kms-ciphertext:${p.value}`).toString('base64') : p.value,
    Version: p.version,
    LastModifiedDate: epochSeconds(p.lastModifiedDate),
    ARN: ssm.parameterArn(p.name),
    DataType: 'text',
  };
}

function renderCommand(c: SentCommand): Body {
  return {
    CommandId: c.commandId,
    DocumentName: c.documentName,
    DocumentVersion: '$DEFAULT',
    Comment: c.comment,
    ExpiresAfter: epochSeconds(new Date(c.requestedAt.getTime() + c.timeoutSeconds * 1000)),
    Parameters: c.parameters,
    InstanceIds: c.instanceIds,
    Targets: [],
    RequestedDateTime: epochSeconds(c.requestedAt),
    Status: 'Pending',
    StatusDetails: 'Pending',
    MaxConcurrency: '50',
    MaxErrors: '0',
    TargetCount: c.instanceIds.length,
    CompletedCount: 0,
    ErrorCount: 0,
    DeliveryTimedOutCount: 0,
    TimeoutSeconds: c.timeoutSeconds,
  };
}

/** GetCommandInvocation's dates are strings, not epoch numbers: that is how the API models them. */
function renderInvocation(i: CommandInvocation): Body {
  const elapsed = i.startedAt && i.endedAt ? `PT${((i.endedAt.getTime() - i.startedAt.getTime()) / 1000).toFixed(3)}S` : '';
  return {
    CommandId: i.commandId,
    InstanceId: i.instanceId,
    Comment: i.comment,
    DocumentName: i.documentName,
    DocumentVersion: '$DEFAULT',
    PluginName: 'aws:runShellScript',
    ResponseCode: i.responseCode,
    ExecutionStartDateTime: i.startedAt?.toISOString() ?? '',
    ExecutionElapsedTime: elapsed,
    ExecutionEndDateTime: i.endedAt?.toISOString() ?? '',
    Status: i.status,
    StatusDetails: i.status === 'TimedOut' ? 'ExecutionTimedOut' : i.status,
    StandardOutputContent: i.stdout,
    StandardOutputUrl: '',
    StandardErrorContent: i.stderr,
    StandardErrorUrl: '',
    CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
  };
}

function readCommandParameters(value: unknown): Record<string, string[]> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new FakeAwsError('SerializationException', 'Parameters must be a map');
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) {
      throw new FakeAwsError('SerializationException', `Parameters.${k} must be a list of strings`);
    }
    out[k] = v as string[];
  }
  return out;
}

function invalidNextToken(): FakeAwsError {
  return new FakeAwsError('InvalidNextToken', 'The nextToken is not valid.');
}
