/**
 * CreateVolume's rules per volume type (sizes, IOPS, throughput, Multi-Attach), with the
 * codes EC2 answers: InvalidParameterValue for a value out of range, and
 * InvalidParameterCombination for a parameter the type does not take.
 */
import { ec2Errors } from './errors.ts';
import type { VolumeType } from './types.ts';

interface TypeRule {
  size: [number, number];
  /** Provisioned IOPS: required (io1, io2), optional (gp3) or not taken. */
  iops: { range: [number, number]; required: boolean } | undefined;
  throughput: [number, number] | undefined;
  multiAttach: boolean;
}

const RULES: Readonly<Record<VolumeType, TypeRule>> = {
  standard: { size: [1, 1024], iops: undefined, throughput: undefined, multiAttach: false },
  gp2: { size: [1, 16_384], iops: undefined, throughput: undefined, multiAttach: false },
  gp3: { size: [1, 16_384], iops: { range: [3000, 16_000], required: false }, throughput: [125, 1000], multiAttach: false },
  io1: { size: [4, 16_384], iops: { range: [100, 64_000], required: true }, throughput: undefined, multiAttach: true },
  io2: { size: [4, 65_536], iops: { range: [100, 256_000], required: true }, throughput: undefined, multiAttach: true },
  st1: { size: [125, 16_384], iops: undefined, throughput: undefined, multiAttach: false },
  sc1: { size: [125, 16_384], iops: undefined, throughput: undefined, multiAttach: false },
};

export function isVolumeType(value: string): value is VolumeType {
  return Object.hasOwn(RULES, value);
}

export function assertVolumeShape(input: {
  volumeType: VolumeType;
  size: number;
  iops: number | undefined;
  throughput: number | undefined;
  multiAttachEnabled: boolean;
}): void {
  const { volumeType, size, iops, throughput } = input;
  const rule = RULES[volumeType];
  if (size < rule.size[0]) throw ec2Errors.invalidValue(`Volume of ${size}GiB is too small; minimum is ${rule.size[0]}GiB.`);
  if (size > rule.size[1]) throw ec2Errors.invalidValue(`Volume of ${size}GiB is too large; maximum is ${rule.size[1]}GiB.`);
  if (iops !== undefined && !rule.iops) throw ec2Errors.combination(`The parameter iops is not supported for ${volumeType} volumes.`);
  if (iops === undefined && rule.iops?.required) throw ec2Errors.missing(`iops for ${volumeType} volumes`);
  if (iops !== undefined && rule.iops && (iops < rule.iops.range[0] || iops > rule.iops.range[1])) {
    throw ec2Errors.invalidValue(`Volume iops of ${iops} is not in the range ${rule.iops.range[0]}-${rule.iops.range[1]} for ${volumeType} volumes.`);
  }
  if (throughput !== undefined && !rule.throughput) {
    throw ec2Errors.combination(`The parameter throughput is not supported for ${volumeType} volumes.`);
  }
  if (throughput !== undefined && rule.throughput && (throughput < rule.throughput[0] || throughput > rule.throughput[1])) {
    throw ec2Errors.invalidValue(`Throughput of ${throughput} MiB/s is not in the range ${rule.throughput[0]}-${rule.throughput[1]} for ${volumeType} volumes.`);
  }
  if (input.multiAttachEnabled && !rule.multiAttach) {
    throw ec2Errors.combination(`The parameter multiAttachEnabled is not supported for ${volumeType} volumes.`);
  }
}
