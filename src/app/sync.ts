/**
 * Cross-tab sync: a tab that changes settings, chats or the active catalog tells the app's other tabs
 * (BroadcastChannel, same origin), which read the change from IndexedDB instead of going on with, or
 * writing back, what they had in memory.
 */
export type SyncMessage =
  | { type: 'settings' }
  | { type: 'chats'; deleted?: string }
  | { type: 'catalog'; activeId: string | null };

const channel = typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel('chatgen-sync') : null;

/** Tells the other tabs (never this one) what changed. */
export function announce(message: SyncMessage): void {
  channel?.postMessage(message);
}

/** Calls `listener` with each change another tab announces. */
export function onAnnouncement(listener: (message: SyncMessage) => void): void {
  channel?.addEventListener('message', (event: MessageEvent<SyncMessage>) => listener(event.data));
}
