import { randomUUID } from 'node:crypto';
import type { Alert, AlertKind, AlertSeverity, ServerEvents } from '../../shared/admin-api.ts';

/** The messages of GET /admin/events, keyed by their SSE `event:` type. */
export type LmxEventMap = ServerEvents;

export type LmxEventType = keyof LmxEventMap;
export type LmxEvent = { [K in LmxEventType]: { type: K; data: LmxEventMap[K] } }[LmxEventType];
type Listener = (event: LmxEvent) => void;

/**
 * The server's live feed: model state changes, download progress, health, alerts. Publishers never
 * wait for subscribers, and a subscriber that throws cannot break a publisher or the other subscribers.
 */
export class EventBus {
  readonly #listeners = new Set<Listener>();

  publish<K extends LmxEventType>(type: K, data: LmxEventMap[K]): void {
    const event = { type, data } as LmxEvent;
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // One broken subscriber (e.g. a closed socket) must not stop the rest.
      }
    }
  }

  alert(kind: AlertKind, severity: AlertSeverity, message: string): Alert {
    const alert: Alert = { id: randomUUID(), severity, kind, message, at: new Date().toISOString() };
    this.publish('alert', alert);
    return alert;
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get subscriberCount(): number {
    return this.#listeners.size;
  }
}
