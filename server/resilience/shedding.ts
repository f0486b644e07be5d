import { freemem, totalmem } from 'node:os';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import { unavailable } from '../errors.ts';

/** Where the fraction of system memory in use comes from; tests drive it. */
export interface MemorySource {
  usedFraction(): number;
}

export const systemMemory: MemorySource = {
  usedFraction: () => 1 - freemem() / totalmem(),
};

export interface SheddingOptions {
  memoryThreshold: number;
  maxEventLoopDelayMs: number;
  memory: MemorySource;
  onShed: () => void;
  /** How often the memory source is read. */
  checkIntervalMs?: number;
}

/**
 * Load shedding for every route of the scope it is registered in (@fastify/under-pressure): when
 * system memory use passes the threshold or the event loop stalls, answer 503 with Retry-After
 * instead of taking on work that would make things worse.
 */
export async function shedLoadUnderPressure(scope: FastifyInstance, options: SheddingOptions): Promise<void> {
  await scope.register(underPressure, {
    maxEventLoopDelay: options.maxEventLoopDelayMs || undefined,
    healthCheck: async () => options.memory.usedFraction() < options.memoryThreshold,
    healthCheckInterval: options.checkIntervalMs ?? 1000,
    pressureHandler: async (_request, _reply, type) => {
      options.onShed();
      const why = type === 'healthCheck' ? 'system memory is nearly exhausted' : 'the server is overloaded';
      throw unavailable(`The server is shedding load: ${why}. Retry shortly.`, 'shed', 5);
    },
  });
}
