import type { LiveEvent } from '../../../src-shared/ws-protocol.ts';
import type { Event } from '../util/event.ts';
import type { TaskService } from './task-service.ts';

/** Task changes as `/cli/events/ws` live events (`{kind: 'task', task}`), for the server to merge. */
export function taskLiveEvents(service: Pick<TaskService, 'onDidChangeTask'>): Event<LiveEvent> {
  return (listener) => service.onDidChangeTask((task) => listener({ kind: 'task', task }));
}
