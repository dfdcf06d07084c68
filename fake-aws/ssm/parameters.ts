import { FakeAwsError } from '../errors.ts';
import { validation } from './input.ts';

export type ParameterType = 'String' | 'StringList' | 'SecureString';
const TYPES: readonly ParameterType[] = ['String', 'StringList', 'SecureString'];

export interface StoredParameter {
  name: string;
  type: ParameterType;
  value: string;
  version: number;
  lastModifiedDate: Date;
  description: string | undefined;
  tier: 'Standard' | 'Advanced';
}

export interface PutParameterInput {
  name: string;
  value: string;
  type?: string | undefined;
  overwrite?: boolean | undefined;
  description?: string | undefined;
  tier?: string | undefined;
  hasTags?: boolean;
}

/**
 * Parameter Store: names to typed, versioned values. `put` without overwrite is a
 * create-if-absent, which is what pairkeeper builds its claims on, so its answers
 * (`ParameterAlreadyExists`, versions) follow AWS exactly.
 */
export class ParameterStore {
  private readonly params = new Map<string, StoredParameter>();

  put(input: PutParameterInput): StoredParameter {
    const existing = this.params.get(input.name);
    if (input.type !== undefined && !TYPES.includes(input.type as ParameterType)) {
      throw validation(
        `1 validation error detected: Value '${input.type}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]`,
      );
    }
    if (input.overwrite && input.hasTags) {
      throw validation(
        'Invalid request: tags and overwrite can\'t be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.',
      );
    }
    if (existing && !input.overwrite) {
      throw new FakeAwsError(
        'ParameterAlreadyExists',
        'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
      );
    }
    const type = (input.type as ParameterType | undefined) ?? existing?.type;
    if (!type) throw validation('A parameter type is required when you create a parameter.');
    const stored: StoredParameter = {
      name: input.name,
      type,
      value: input.value,
      version: (existing?.version ?? 0) + 1,
      lastModifiedDate: new Date(),
      description: input.description ?? existing?.description,
      tier: input.tier === 'Advanced' || existing?.tier === 'Advanced' ? 'Advanced' : 'Standard',
    };
    this.params.set(input.name, stored);
    return stored;
  }

  get(name: string): StoredParameter | undefined {
    return this.params.get(name);
  }

  /** Throws `ParameterNotFound`, as GetParameter and DeleteParameter answer. */
  require(name: string): StoredParameter {
    const found = this.params.get(name);
    if (!found) throw new FakeAwsError('ParameterNotFound', `Parameter ${name} not found.`);
    return found;
  }

  delete(name: string): void {
    this.require(name);
    this.params.delete(name);
  }

  /**
   * The parameters under `path` in name order: its direct children, or with `recursive`
   * everything below it. A name is under `/a` when it starts with `/a/`.
   */
  underPath(path: string, recursive: boolean): StoredParameter[] {
    const prefix = path.endsWith('/') ? path : `${path}/`;
    return this.all().filter((p) => {
      if (!p.name.startsWith(prefix)) return false;
      return recursive || !p.name.slice(prefix.length).includes('/');
    });
  }

  all(): StoredParameter[] {
    return [...this.params.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  clear(): void {
    this.params.clear();
  }
}
