import { useState } from 'react';
import type { AutoDevApi } from '../../../src-shared/api.ts';
import type { SessionInfo } from '../../../src-shared/session.ts';
import type { Preferences } from '../model/preferences.ts';
import { CloseIcon } from './Icons.tsx';
import { ReplayView } from './ReplayView.tsx';
import { SessionDetail } from './SessionDetail.tsx';
import { SessionsView } from './SessionsView.tsx';
import type { SessionActions } from './Workspace.tsx';

/** The Sessions view: the list and history search, a detail panel, or a replay. */
export function SessionsPage(props: {
  api: AutoDevApi;
  sessions: Readonly<Record<string, SessionInfo>>;
  removed: ReadonlySet<string>;
  readOnly: boolean;
  prefs: Preferences;
  replay: string | null;
  onCloseReplay(): void;
  actions: SessionActions;
  onTerminate(session: SessionInfo): void;
  /** A session loaded here that the workspace did not know yet. */
  onKnown(session: SessionInfo): void;
}) {
  const [selected, setSelected] = useState<string | null>(null);
  const replaySession = props.replay ? props.sessions[props.replay] : undefined;
  const selectedSession = selected ? props.sessions[selected] : undefined;
  if (replaySession)
    return (
      <div className="sessions-layout">
        <ReplayView
          api={props.api}
          session={replaySession}
          theme={props.prefs.theme}
          fontSize={props.prefs.fontSize}
          onClose={props.onCloseReplay}
        />
      </div>
    );
  return (
    <div className="sessions-layout" data-detail={selectedSession ? 'open' : 'closed'}>
      <SessionsView
        api={props.api}
        live={props.sessions}
        removed={props.removed}
        readOnly={props.readOnly}
        selected={selected}
        actions={props.actions}
        onSelect={(id) => {
          setSelected(id);
          if (!props.sessions[id])
            void props.api
              .getSession(id)
              .then(props.onKnown)
              .catch(() => {});
        }}
      />
      {selectedSession ? (
        <section className="side-panel sessions-detail" aria-label="Session">
          <button
            type="button"
            className="icon-button side-panel-close"
            aria-label="Close details"
            onClick={() => setSelected(null)}
          >
            <CloseIcon />
          </button>
          <SessionDetail
            api={props.api}
            session={selectedSession}
            readOnly={props.readOnly}
            actions={props.actions}
            showOpen
            onTerminate={() => props.onTerminate(selectedSession)}
          />
        </section>
      ) : null}
    </div>
  );
}
