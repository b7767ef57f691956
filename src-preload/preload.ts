import { contextBridge, ipcRenderer } from 'electron';
import { createAutoDevBridge } from './bridge.ts';

// Sandboxed preload: bundled to one CommonJS file (build.mjs) because it cannot require local modules.
// Only the typed API crosses the bridge; `ipcRenderer` itself stays here.
contextBridge.exposeInMainWorld('autodev', createAutoDevBridge(ipcRenderer));
