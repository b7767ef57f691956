// First: configures zod before any schema is built (see zod-setup.ts).
import './zod-setup.ts';
import '@xterm/xterm/css/xterm.css';
import './styles.css';
import { createRoot } from 'react-dom/client';
import { pickTransport } from './api/pick-transport.ts';
import { Root } from './components/Root.tsx';
import { browserStorage } from './hooks/storage.ts';
import { systemPrefersDark } from './hooks/use-preferences.ts';
import { loadPreferences } from './model/preferences.ts';

// The theme applies from the first paint, sign-in screen included: the saved choice, else the system's.
document.documentElement.dataset.theme = loadPreferences(browserStorage('local'), systemPrefersDark()).theme;

const container = document.getElementById('root');
if (!container) throw new Error('missing #root');
createRoot(container).render(
  <Root choice={pickTransport(window as unknown as Parameters<typeof pickTransport>[0])} />,
);
