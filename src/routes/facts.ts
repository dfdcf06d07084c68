/**
 * `GET /v1/facts`: per group, per NodeID, the instance holding the pair, its IP,
 * volume, device, ENI and AZ — what a bootstrap script or Salt's `http_json`
 * ext_pillar asks ("who are my peers"). Only pairs whole on their claimant count.
 */
import type { FastifyInstance } from 'fastify';
import type { ControllerFacade } from '../controller/facade.ts';

export function factsRoutes(app: FastifyInstance, controller: Pick<ControllerFacade, 'facts'>): void {
  app.get('/v1/facts', () => controller.facts());
}
