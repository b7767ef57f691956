import type { ComponentType, ReactNode } from 'react';
import type { AutoDevApi } from '../../../src-shared/api.ts';
import type { SessionInfo } from '../../../src-shared/session.ts';
import { ChangesPanel } from './changes/ChangesPanel.tsx';
import { DiffIcon, InfoIcon } from './Icons.tsx';
import { SessionDetail } from './SessionDetail.tsx';
import type { SessionActions } from './Workspace.tsx';

/**
 * The panels beside the terminal, as data: each is a button in the tab bar and a panel on the right
 * (a sheet over the terminal on a phone). A feature adds its panel by adding an entry here — the
 * Changes panel (components/changes/) mounts this way — without touching the layout.
 */
export interface SidePanelContext {
  api: AutoDevApi;
  session: SessionInfo;
  readOnly: boolean;
  actions: SessionActions;
}

export interface SidePanelDefinition {
  id: string;
  /** Button label ("Show …" / "Hide …" are added) and panel title. */
  label: string;
  Icon: ComponentType<{ size?: number }>;
  /** Whether the panel applies to this session (e.g. only sessions with a git working copy). */
  available?(context: SidePanelContext): boolean;
  render(context: SidePanelContext): ReactNode;
}

export const SIDE_PANELS: SidePanelDefinition[] = [
  {
    id: 'details',
    label: 'session details',
    Icon: InfoIcon,
    render: ({ api, session, readOnly, actions }) => (
      <SessionDetail
        api={api}
        session={session}
        readOnly={readOnly}
        actions={actions}
        onTerminate={() => actions.requestClose(session.session_id)}
      />
    ),
  },
  {
    id: 'changes',
    label: 'changes',
    Icon: DiffIcon,
    // Sessions isolated in a git worktree: their files, diff, commit / merge / discard.
    available: ({ session }) => !!session.worktree,
    render: ({ api, session, readOnly }) => (
      <div className="side-changes">
        <h2 className="side-panel-title">Changes</h2>
        <ChangesPanel api={api} session={session} readOnly={readOnly} />
      </div>
    ),
  },
];
