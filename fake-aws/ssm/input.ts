import { FakeAwsError } from '../errors.ts';

/**
 * Readers for SSM's JSON request bodies. Bad input answers `ValidationException` in the
 * words AWS uses for its model constraints ("1 validation error detected: …"), with the
 * member name in lower camel case as AWS writes it.
 */
export function validation(message: string): FakeAwsError {
  return new FakeAwsError('ValidationException', message);
}

function memberName(key: string): string {
  return key.charAt(0).toLowerCase() + key.slice(1);
}

export function requiredString(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (value === undefined || value === null) {
    throw validation(`1 validation error detected: Value null at '${memberName(key)}' failed to satisfy constraint: Member must not be null`);
  }
  if (typeof value !== 'string') throw new FakeAwsError('SerializationException', `${key} must be a string`);
  if (value.length === 0) {
    throw validation(
      `1 validation error detected: Value '' at '${memberName(key)}' failed to satisfy constraint: Member must have length greater than or equal to 1`,
    );
  }
  return value;
}

export function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new FakeAwsError('SerializationException', `${key} must be a string`);
  return value;
}

export function optionalBoolean(body: Record<string, unknown>, key: string): boolean | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new FakeAwsError('SerializationException', `${key} must be a boolean`);
  return value;
}

/** An integer member with AWS's range constraint. */
export function optionalInteger(body: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new FakeAwsError('SerializationException', `${key} must be an integer`);
  const at = `Value '${value}' at '${memberName(key)}' failed to satisfy constraint`;
  if (value < min) throw validation(`1 validation error detected: ${at}: Member must have value greater than or equal to ${min}`);
  if (value > max) throw validation(`1 validation error detected: ${at}: Member must have value less than or equal to ${max}`);
  return value;
}

export function stringList(body: Record<string, unknown>, key: string, min: number, max: number): string[] {
  const value = body[key];
  if (value === undefined || value === null) {
    throw validation(`1 validation error detected: Value null at '${memberName(key)}' failed to satisfy constraint: Member must not be null`);
  }
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new FakeAwsError('SerializationException', `${key} must be a list of strings`);
  }
  const at = `Value '[${value.join(', ')}]' at '${memberName(key)}' failed to satisfy constraint`;
  if (value.length < min) throw validation(`1 validation error detected: ${at}: Member must have length greater than or equal to ${min}`);
  if (value.length > max) throw validation(`1 validation error detected: ${at}: Member must have length less than or equal to ${max}`);
  return value as string[];
}

/** AWS JSON protocols carry timestamps as epoch seconds. */
export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}
