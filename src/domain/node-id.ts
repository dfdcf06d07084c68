/**
 * A NodeID is a tag value, so it is input like any other (invariant 7): it ends up
 * in text tables, SSM parameter names, hook environments, facts and log lines. Only
 * NodeIDs of this documented set are used: 1 to 64 letters, digits, dots, dashes and
 * underscores, starting with a letter or a digit (etcd-1, zk_03, kafka.2).
 */
export const NODE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isValidNodeId(nodeId: string): boolean {
  return NODE_ID_PATTERN.test(nodeId);
}

/** A tag value as it may be shown: quoted, control characters escaped, at most 64 characters. */
export function shownTagValue(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}
