import type { FastifyInstance } from 'fastify';
import type { FactsPublisher } from '../notify/facts-publisher.ts';

/**
 * `GET /v1/facts`: per group, per NodeID, the instance holding the pair, its IP,
 * volume, device, ENI and AZ — what a bootstrap script or Salt's `http_json`
 * ext_pillar asks ("who are my peers"). Only pairs whole on their claimant count.
 */
export function factsRoutes(app: FastifyInstance, facts: FactsPublisher): void {
  app.get('/v1/facts', () => facts.current());
}
