/** What the SSM fake needs to know about an EC2 instance (the fake EC2's instances fit). */
export interface InstanceView {
  state: string;
  launchTime: Date;
}

/**
 * Which instances have an SSM agent registered, i.e. which ones SendCommand accepts.
 * By default a running EC2 instance registers `registrationDelayMs` after its launch,
 * as the agent does on boot; tests can turn that off, keep single instances
 * unregistered forever, or register ids the fake EC2 does not know.
 */
export class SsmAgents {
  /** Time from launch until the agent of a running instance is online. */
  registrationDelayMs = 0;
  /** When false, only explicitly registered instances are online. */
  autoRegister = true;

  private readonly registered = new Set<string>();
  private readonly never = new Set<string>();
  private readonly lookup: (instanceId: string) => InstanceView | undefined;

  constructor(lookup: (instanceId: string) => InstanceView | undefined = () => undefined) {
    this.lookup = lookup;
  }

  register(instanceId: string): void {
    this.never.delete(instanceId);
    this.registered.add(instanceId);
  }

  /** The instance's agent never comes online (a broken AMI, no instance profile…). */
  neverRegister(instanceId: string): void {
    this.registered.delete(instanceId);
    this.never.add(instanceId);
  }

  isOnline(instanceId: string, now = Date.now()): boolean {
    if (this.never.has(instanceId)) return false;
    if (this.registered.has(instanceId)) return true;
    if (!this.autoRegister) return false;
    const instance = this.lookup(instanceId);
    return instance?.state === 'running' && now - instance.launchTime.getTime() >= this.registrationDelayMs;
  }

  reset(): void {
    this.registered.clear();
    this.never.clear();
    this.registrationDelayMs = 0;
    this.autoRegister = true;
  }
}
