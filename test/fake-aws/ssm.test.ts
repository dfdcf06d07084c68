import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  DeleteParameterCommand,
  GetCommandInvocationCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  PutParameterCommand,
  SendCommandCommand,
  SSMClient,
  type GetCommandInvocationCommandOutput,
  type GetParametersByPathCommandOutput,
} from '@aws-sdk/client-ssm';
import { startFakeAws, type FakeAws } from '../../fake-aws/index.ts';
import { failure } from '../helpers/aws-failure.ts';
import { fakeAwsClientConfig } from '../../fake-aws/clients.ts';

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('fake SSM through the real SSMClient', () => {
  let aws: FakeAws;
  let ssm: SSMClient;

  before(async () => {
    aws = await startFakeAws();
    ssm = new SSMClient(fakeAwsClientConfig(aws));
  });
  after(async () => {
    ssm.destroy();
    await aws.close();
  });
  beforeEach(() => {
    aws.ssm.reset();
    aws.faults.clear();
    aws.faults.resetCounts();
  });

  describe('Parameter Store', () => {
    it('creates, versions and reads a parameter with ARN and LastModifiedDate', async () => {
      const created = await ssm.send(new PutParameterCommand({ Name: '/pk/claims/n1', Value: 'i-1', Type: 'String' }));
      assert.deepEqual({ v: created.Version, tier: created.Tier }, { v: 1, tier: 'Standard' });
      const updated = await ssm.send(new PutParameterCommand({ Name: '/pk/claims/n1', Value: 'i-2', Overwrite: true }));
      assert.equal(updated.Version, 2);

      const { Parameter } = await ssm.send(new GetParameterCommand({ Name: '/pk/claims/n1' }));
      assert.equal(Parameter?.Value, 'i-2');
      assert.equal(Parameter?.Type, 'String');
      assert.equal(Parameter?.Version, 2);
      assert.equal(Parameter?.ARN, `arn:aws:ssm:${aws.region}:${aws.accountId}:parameter/pk/claims/n1`);
      assert.ok(Parameter?.LastModifiedDate instanceof Date);
      assert.ok(Math.abs(Parameter.LastModifiedDate.getTime() - Date.now()) < 60_000);
    });

    it('refuses to overwrite without Overwrite: ParameterAlreadyExists, 400', async () => {
      await ssm.send(new PutParameterCommand({ Name: '/pk/claims/n1', Value: 'i-1', Type: 'String' }));
      const err = await failure(ssm.send(new PutParameterCommand({ Name: '/pk/claims/n1', Value: 'i-2', Type: 'String' })));
      assert.deepEqual([err.name, err.status], ['ParameterAlreadyExists', 400]);
      const { Parameter } = await ssm.send(new GetParameterCommand({ Name: '/pk/claims/n1' }));
      assert.equal(Parameter?.Value, 'i-1');
    });

    it('validates type, tags with overwrite, and a missing type on create', async () => {
      const badType = await failure(ssm.send(new PutParameterCommand({ Name: '/a', Value: 'x', Type: 'Number' as 'String' })));
      assert.deepEqual([badType.name, badType.status], ['ValidationException', 400]);
      const noType = await failure(ssm.send(new PutParameterCommand({ Name: '/a', Value: 'x' })));
      assert.equal(noType.name, 'ValidationException');
      const tagsAndOverwrite = await failure(
        ssm.send(new PutParameterCommand({ Name: '/a', Value: 'x', Type: 'String', Overwrite: true, Tags: [{ Key: 'k', Value: 'v' }] })),
      );
      assert.equal(tagsAndOverwrite.name, 'ValidationException');
    });

    it('keeps SecureString values encrypted unless asked to decrypt; StringList as written', async () => {
      await ssm.send(new PutParameterCommand({ Name: '/s', Value: 'secret', Type: 'SecureString' }));
      await ssm.send(new PutParameterCommand({ Name: '/l', Value: 'a,b', Type: 'StringList' }));
      const raw = await ssm.send(new GetParameterCommand({ Name: '/s' }));
      assert.notEqual(raw.Parameter?.Value, 'secret');
      const plain = await ssm.send(new GetParameterCommand({ Name: '/s', WithDecryption: true }));
      assert.equal(plain.Parameter?.Value, 'secret');
      const list = await ssm.send(new GetParameterCommand({ Name: '/l' }));
      assert.deepEqual([list.Parameter?.Type, list.Parameter?.Value], ['StringList', 'a,b']);
    });

    it('answers ParameterNotFound (400) for a missing name, to GetParameter and DeleteParameter', async () => {
      const get = await failure(ssm.send(new GetParameterCommand({ Name: '/nope' })));
      assert.deepEqual([get.name, get.status], ['ParameterNotFound', 400]);
      const del = await failure(ssm.send(new DeleteParameterCommand({ Name: '/nope' })));
      assert.deepEqual([del.name, del.status], ['ParameterNotFound', 400]);
    });

    it('deletes, after which the name can be created again from version 1', async () => {
      await ssm.send(new PutParameterCommand({ Name: '/d', Value: 'x', Type: 'String' }));
      await ssm.send(new DeleteParameterCommand({ Name: '/d' }));
      const again = await ssm.send(new PutParameterCommand({ Name: '/d', Value: 'y', Type: 'String' }));
      assert.equal(again.Version, 1);
    });

    it('GetParameters lists found parameters and the names it could not find', async () => {
      await ssm.send(new PutParameterCommand({ Name: '/a', Value: '1', Type: 'String' }));
      await ssm.send(new PutParameterCommand({ Name: '/b', Value: '2', Type: 'String' }));
      const out = await ssm.send(new GetParametersCommand({ Names: ['/a', '/missing', '/b'] }));
      assert.deepEqual(out.Parameters?.map((p) => [p.Name, p.Value]), [['/a', '1'], ['/b', '2']]);
      assert.deepEqual(out.InvalidParameters, ['/missing']);
      const tooMany = await failure(ssm.send(new GetParametersCommand({ Names: Array.from({ length: 11 }, (_, i) => `/p${i}`) })));
      assert.equal(tooMany.name, 'ValidationException');
    });

    it('GetParametersByPath: direct children or recursive, paged 10 at most with NextToken', async () => {
      for (let i = 0; i < 23; i++) {
        await ssm.send(new PutParameterCommand({ Name: `/pk/claims/n${String(i).padStart(2, '0')}`, Value: `v${i}`, Type: 'String' }));
      }
      await ssm.send(new PutParameterCommand({ Name: '/pk/claims/deep/x', Value: 'deep', Type: 'String' }));
      await ssm.send(new PutParameterCommand({ Name: '/pk/other', Value: 'o', Type: 'String' }));

      const names: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page: GetParametersByPathCommandOutput = await ssm.send(
          new GetParametersByPathCommand({ Path: '/pk/claims', MaxResults: 10, NextToken: token }),
        );
        assert.ok((page.Parameters?.length ?? 0) <= 10);
        names.push(...(page.Parameters ?? []).map((p) => p.Name!));
        token = page.NextToken;
        pages++;
      } while (token);
      assert.equal(pages, 3);
      assert.equal(names.length, 23);
      assert.ok(!names.includes('/pk/claims/deep/x'));

      const recursive: string[] = [];
      token = undefined;
      do {
        const page: GetParametersByPathCommandOutput = await ssm.send(
          new GetParametersByPathCommand({ Path: '/pk', Recursive: true, NextToken: token }),
        );
        recursive.push(...(page.Parameters ?? []).map((p) => p.Name!));
        token = page.NextToken;
      } while (token);
      assert.equal(recursive.length, 25);
    });

    it('GetParametersByPath refuses MaxResults above 10 and a foreign NextToken', async () => {
      const big = await failure(ssm.send(new GetParametersByPathCommand({ Path: '/pk', MaxResults: 11 })));
      assert.deepEqual([big.name, big.status], ['ValidationException', 400]);
      const token = await failure(ssm.send(new GetParametersByPathCommand({ Path: '/pk', NextToken: 'garbage' })));
      assert.deepEqual([token.name, token.status], ['InvalidNextToken', 400]);
    });
  });

  describe('throttling', () => {
    it('injected TooManyUpdates and ThrottlingException answer 400 with their codes', async () => {
      aws.faults.set('SSM', 'PutParameter', { failNext: 1, code: 'TooManyUpdates', status: 400 });
      const updates = await failure(ssm.send(new PutParameterCommand({ Name: '/t', Value: 'x', Type: 'String' })));
      assert.deepEqual([updates.name, updates.status], ['TooManyUpdates', 400]);
      aws.faults.set('SSM', 'GetParameter', { failNext: 1, code: 'ThrottlingException', status: 400, message: 'Rate exceeded' });
      const throttled = await failure(ssm.send(new GetParameterCommand({ Name: '/t' })));
      assert.deepEqual([throttled.name, throttled.status], ['ThrottlingException', 400]);
      assert.equal(aws.faults.count('SSM', 'PutParameter'), 1);
    });

    it('is off by default but counts reads and writes in their buckets', async () => {
      await ssm.send(new PutParameterCommand({ Name: '/t', Value: 'x', Type: 'String' }));
      for (let n = 0; n < 50; n++) await ssm.send(new GetParameterCommand({ Name: '/t' }));
      await ssm.send(new GetParametersByPathCommand({ Path: '/' }));
      assert.equal(aws.ssm.throttling.enabled, false);
      const stats = aws.ssm.throttling.stats();
      assert.deepEqual(stats['read'], { refillPerSecond: 40, capacity: 40, calls: 51, throttled: 0 });
      assert.deepEqual(stats['write'], { refillPerSecond: 3, capacity: 3, calls: 1, throttled: 0 });
    });

    it('standard throughput: 3 writes, then ThrottlingException (400, Rate exceeded); reads have their own bucket', async () => {
      aws.ssm.throttling.enable({ scale: 0 });
      for (let n = 0; n < 3; n++) await ssm.send(new PutParameterCommand({ Name: `/t/${n}`, Value: 'x', Type: 'String' }));
      const put = await failure(ssm.send(new PutParameterCommand({ Name: '/t/3', Value: 'x', Type: 'String' })));
      assert.deepEqual([put.name, put.status, put.message], ['ThrottlingException', 400, 'Rate exceeded']);
      // DeleteParameter draws from the same write bucket.
      const del = await failure(ssm.send(new DeleteParameterCommand({ Name: '/t/0' })));
      assert.equal(del.name, 'ThrottlingException');
      assert.equal(aws.ssm.parameters.get('/t/3'), undefined);
      assert.ok(aws.ssm.parameters.get('/t/0'));
      await ssm.send(new GetParameterCommand({ Name: '/t/0' }));
      assert.deepEqual(aws.ssm.throttling.stats()['write'], { refillPerSecond: 3, capacity: 3, calls: 3, throttled: 2 });
    });

    it('standard throughput: GetParameter, GetParameters and GetParametersByPath share 40 reads', async () => {
      aws.ssm.throttling.enable({ scale: 0 });
      aws.ssm.parameters.put({ name: '/t', value: 'x', type: 'String' });
      for (let n = 0; n < 10; n++) await ssm.send(new GetParameterCommand({ Name: '/t' }));
      for (let n = 0; n < 10; n++) await ssm.send(new GetParametersCommand({ Names: ['/t'] }));
      for (let n = 0; n < 20; n++) await ssm.send(new GetParametersByPathCommand({ Path: '/' }));
      const err = await failure(ssm.send(new GetParametersCommand({ Names: ['/t'] })));
      assert.deepEqual([err.name, err.status], ['ThrottlingException', 400]);
      assert.equal((await failure(ssm.send(new GetParametersByPathCommand({ Path: '/' })))).name, 'ThrottlingException');
      // Writes are unaffected by an empty read bucket.
      await ssm.send(new PutParameterCommand({ Name: '/t', Value: 'y', Overwrite: true }));
    });

    it('higher throughput: 10 writes, and GetParametersByPath on its own 100', async () => {
      aws.ssm.throttling.enable({ scale: 0, higherThroughput: true });
      for (let n = 0; n < 10; n++) await ssm.send(new PutParameterCommand({ Name: `/t/${n}`, Value: 'x', Type: 'String' }));
      assert.equal((await failure(ssm.send(new PutParameterCommand({ Name: '/t/10', Value: 'x', Type: 'String' })))).name, 'ThrottlingException');
      for (let n = 0; n < 100; n++) await ssm.send(new GetParametersByPathCommand({ Path: '/t' }));
      assert.equal((await failure(ssm.send(new GetParametersByPathCommand({ Path: '/t' })))).name, 'ThrottlingException');
      await ssm.send(new GetParameterCommand({ Name: '/t/0' }));
      assert.deepEqual(Object.keys(aws.ssm.throttling.stats()).sort(), ['read', 'read-by-path', 'write']);
    });

    it('refills at the scaled rate', async () => {
      aws.ssm.throttling.enable({ scale: 20 }); // 3/s × 20: a write token every ~17 ms
      for (let n = 0; n < 3; n++) await ssm.send(new PutParameterCommand({ Name: `/t/${n}`, Value: 'x', Type: 'String' }));
      await until(
        () => ssm.send(new PutParameterCommand({ Name: '/t/3', Value: 'x', Type: 'String' })).then(() => true, () => undefined),
        'a write token',
      );
      assert.equal(aws.ssm.parameters.get('/t/3')?.value, 'x');
    });

    it('the control API turns it on and off', async () => {
      const post = (body: unknown) => fetch(`${aws.url}/_fake/ssm/throttling`, { method: 'POST', body: JSON.stringify(body) });
      assert.equal((await post({ scale: 0 })).status, 200);
      for (let n = 0; n < 3; n++) await ssm.send(new PutParameterCommand({ Name: `/t/${n}`, Value: 'x', Type: 'String' }));
      assert.equal((await failure(ssm.send(new PutParameterCommand({ Name: '/t/3', Value: 'x', Type: 'String' })))).name, 'ThrottlingException');
      assert.equal((await fetch(`${aws.url}/_fake/ssm/throttling`, { method: 'DELETE' })).status, 200);
      await ssm.send(new PutParameterCommand({ Name: '/t/3', Value: 'x', Type: 'String' }));
    });
  });

  describe('Run Command', () => {
    const invocation = (CommandId: string, InstanceId: string) =>
      ssm.send(new GetCommandInvocationCommand({ CommandId, InstanceId }));

    async function finished(commandId: string, instanceId: string): Promise<GetCommandInvocationCommandOutput> {
      return until(async () => {
        const out = await invocation(commandId, instanceId);
        return out.Status === 'Pending' || out.Status === 'InProgress' ? undefined : out;
      }, 'the invocation to finish');
    }

    it('refuses instances without an online agent: InvalidInstanceId', async () => {
      const err = await failure(ssm.send(new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: ['i-0123456789abcdef0'] })));
      assert.deepEqual([err.name, err.status], ['InvalidInstanceId', 400]);
    });

    it('runs the scripted handler: Pending/InProgress, then Success with its output', async () => {
      aws.ssm.agents.register('i-0123456789abcdef0');
      const seen: unknown[] = [];
      aws.ssm.commands.handler = (instanceId, documentName, parameters) => {
        seen.push({ instanceId, documentName, parameters });
        return { status: 'Success', stdout: 'formatted\n', delayMs: 30 };
      };
      const { Command } = await ssm.send(
        new SendCommandCommand({
          DocumentName: 'AWS-RunShellScript',
          InstanceIds: ['i-0123456789abcdef0'],
          Parameters: { commands: ['mkfs -t xfs /dev/nvme1n1'] },
          Comment: 'format',
        }),
      );
      assert.equal(Command?.Status, 'Pending');
      assert.deepEqual(Command?.InstanceIds, ['i-0123456789abcdef0']);
      assert.ok(Command?.RequestedDateTime instanceof Date);
      const first = await invocation(Command.CommandId!, 'i-0123456789abcdef0');
      assert.ok(first.Status === 'Pending' || first.Status === 'InProgress');
      const done = await finished(Command.CommandId!, 'i-0123456789abcdef0');
      assert.deepEqual([done.Status, done.ResponseCode, done.StandardOutputContent], ['Success', 0, 'formatted\n']);
      assert.equal(done.Comment, 'format');
      assert.ok(done.ExecutionEndDateTime);
      assert.deepEqual(seen, [
        { instanceId: 'i-0123456789abcdef0', documentName: 'AWS-RunShellScript', parameters: { commands: ['mkfs -t xfs /dev/nvme1n1'] } },
      ]);
    });

    it('reports Failed and TimedOut outcomes, and a throwing handler as Failed', async () => {
      const ids = ['i-00000000000000001', 'i-00000000000000002', 'i-00000000000000003'];
      for (const id of ids) aws.ssm.agents.register(id);
      aws.ssm.commands.handler = (instanceId) => {
        if (instanceId === ids[0]) return { status: 'Failed', stderr: 'no such device' };
        if (instanceId === ids[1]) return { status: 'TimedOut' };
        throw new Error('script crashed');
      };
      const { Command } = await ssm.send(new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: ids }));
      const [failed, timedOut, crashed] = (await Promise.all(ids.map((id) => finished(Command!.CommandId!, id)))) as [
        GetCommandInvocationCommandOutput,
        GetCommandInvocationCommandOutput,
        GetCommandInvocationCommandOutput,
      ];
      assert.deepEqual([failed.Status, failed.ResponseCode, failed.StandardErrorContent], ['Failed', 1, 'no such device']);
      assert.deepEqual([timedOut.Status, timedOut.StatusDetails], ['TimedOut', 'ExecutionTimedOut']);
      assert.equal(crashed.Status, 'Failed');
      assert.match(crashed.StandardErrorContent ?? '', /script crashed/);
    });

    it('answers InvocationDoesNotExist before the invocation is visible and for unknown ids', async () => {
      aws.ssm.agents.register('i-0123456789abcdef0');
      aws.ssm.commands.visibilityDelayMs = 50;
      const { Command } = await ssm.send(new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: ['i-0123456789abcdef0'] }));
      const early = await failure(invocation(Command!.CommandId!, 'i-0123456789abcdef0'));
      assert.deepEqual([early.name, early.status], ['InvocationDoesNotExist', 400]);
      await until(async () => {
        try {
          return await invocation(Command!.CommandId!, 'i-0123456789abcdef0');
        } catch {
          return undefined;
        }
      }, 'the invocation to appear');
      const unknown = await failure(invocation('00000000-0000-0000-0000-000000000000', 'i-0123456789abcdef0'));
      assert.equal(unknown.name, 'InvocationDoesNotExist');
    });

    it('registers the agents of running EC2 instances after the registration delay, unless told never to', async () => {
      const instance = aws.ec2.runInstance({ availabilityZone: `${aws.region}a` });
      const broken = aws.ec2.runInstance({ availabilityZone: `${aws.region}a` });
      aws.ssm.agents.neverRegister(broken.instanceId);
      aws.ssm.agents.registrationDelayMs = 40;
      const sent = await until(async () => {
        try {
          return await ssm.send(new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: [instance.instanceId] }));
        } catch {
          return undefined;
        }
      }, 'the agent to register');
      assert.ok(sent.Command?.CommandId);
      assert.ok(Date.now() - instance.launchTime.getTime() >= 40);
      const err = await failure(ssm.send(new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: [broken.instanceId] })));
      assert.equal(err.name, 'InvalidInstanceId');
    });
  });
});
