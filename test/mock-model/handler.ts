import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Json } from './http-util.ts';
import type { MockApi, MockEvent, Turn } from './script.ts';

/** Events an API handler reports; the server stamps them with the API and the time. */
export type HandlerEvent = MockEvent extends infer E
  ? E extends { api: MockApi }
    ? Omit<E, 'at' | 'api'>
    : never
  : never;

export interface HandlerContext {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  body: Json;
  emit(event: HandlerEvent): void;
}

/** One model API: which requests are its own, which are conversational turns, how to answer. */
export interface ApiHandler {
  api: MockApi;
  matches(method: string, path: string, headers: IncomingHttpHeaders): boolean;
  /** `main` requests carry the conversation with the agent's tools and take the next scripted turn. */
  classify(method: string, path: string, body: Json): 'main' | 'side';
  side(ctx: HandlerContext): Promise<void>;
  /** Answer a main request with a scripted turn ('hold' is handled by the server). */
  main(ctx: HandlerContext, turn: Exclude<Turn, { kind: 'hold' }>): Promise<void>;
  /** The text of our tool call's result if this main request carries one, else null. */
  toolResult(body: Json): string | null;
}
