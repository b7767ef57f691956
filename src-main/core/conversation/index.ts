/** Conversations with agents in interactive sessions: send a prompt and get the answer, read the turns. */
export {
  ConversationError,
  type ConversationService,
  type ConversationServiceOptions,
  createConversationService,
  type SendOutcome,
} from './conversation-service.ts';
export { readSerializedScreen, type ScreenLines } from './screen-lines.ts';
export { compileReplySpec, screenReply } from './screen-reply.ts';
export { SessionRecords, type SessionRecordView } from './session-records.ts';
