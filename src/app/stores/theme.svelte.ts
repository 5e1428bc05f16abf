/**
 * Light or dark: follows the system (prefers-color-scheme) until the user picks one; the pick is kept
 * in localStorage (read before the first paint, so the page never flashes the other theme).
 */
export type ThemeChoice = 'system' | 'light' | 'dark';

const STORAGE_KEY = 'chatgen-theme';

class ThemeStore {
  choice = $state<ThemeChoice>('system');
  private systemDark = $state(false);

  get dark(): boolean {
    return this.choice === 'dark' || (this.choice === 'system' && this.systemDark);
  }

  start(): void {
    const saved = localStorage.getItem(STORAGE_KEY);
    this.choice = saved === 'light' || saved === 'dark' ? saved : 'system';
    const query = matchMedia('(prefers-color-scheme: dark)');
    this.systemDark = query.matches;
    query.addEventListener('change', (e) => (this.systemDark = e.matches));
    this.apply();
  }

  set(choice: ThemeChoice): void {
    this.choice = choice;
    if (choice === 'system') localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, choice);
    this.apply();
  }

  /** The header's toggle: the other theme than the one shown. */
  toggle(): void {
    this.set(this.dark ? 'light' : 'dark');
  }

  private apply(): void {
    if (this.choice === 'system') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = this.choice;
  }
}

export const theme = new ThemeStore();
