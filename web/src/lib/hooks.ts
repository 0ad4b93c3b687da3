import { useCallback, useEffect, useRef, useState, type DependencyList } from 'react';

export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Fetch again (keeps showing the current data meanwhile). */
  reload: () => void;
  /** Replace the data with what a write answered, without fetching. */
  setData: (data: T) => void;
}

/** Loads something when the dependencies change; the last answer wins, earlier ones are dropped. */
export function useResource<T>(load: (signal: AbortSignal) => Promise<T>, deps: DependencyList): Resource<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    loadRef.current(controller.signal).then(
      (value) => {
        if (controller.signal.aborted) return;
        setData(value);
        setError(undefined);
        setLoading(false);
      },
      (failure: unknown) => {
        if (controller.signal.aborted) return;
        setError(failure);
        setLoading(false);
      },
    );
    return () => controller.abort();
    // The caller names what the load depends on; `generation` is bumped by reload().
  }, [...deps, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { data, error, loading, reload, setData };
}

/** Runs a write: busy while it runs, its error kept for display, cleared on the next run. */
export function useAction<A extends unknown[], R>(
  action: (...args: A) => Promise<R>,
): { run: (...args: A) => Promise<R | undefined>; busy: boolean; error: unknown; clear: () => void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const actionRef = useRef(action);
  actionRef.current = action;
  const run = useCallback(async (...args: A) => {
    setBusy(true);
    setError(undefined);
    try {
      return await actionRef.current(...args);
    } catch (failure) {
      setError(failure);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  const clear = useCallback(() => setError(undefined), []);
  return { run, busy, error, clear };
}

/** Calls `tick` every `ms` while the page is visible (and once at once when it becomes visible again). */
export function useInterval(tick: () => void, ms: number, enabled = true): void {
  const tickRef = useRef(tick);
  tickRef.current = tick;
  useEffect(() => {
    if (!enabled) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') tickRef.current();
    }, ms);
    const onVisible = () => {
      if (document.visibilityState === 'visible') tickRef.current();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      window.clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [ms, enabled]);
}

/** A value that follows `value` after it stayed the same for `ms`. */
/**
 * A ref for a form's first field: on mount the field is scrolled into view and focused (a form opened from a card may
 * be out of sight).
 */
export function useFocusOnOpen<E extends HTMLElement>() {
  const ref = useRef<E>(null);
  useEffect(() => {
    ref.current?.scrollIntoView({ block: 'nearest' });
    ref.current?.focus();
  }, []);
  return ref;
}

export function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setDebounced(value), ms);
    return () => window.clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

/** The time, renewed every `ms` while `enabled` and the page is visible (for a countdown such as "in 8 s"). */
export function useNow(ms: number, enabled = true): number {
  const [now, setNow] = useState(() => Date.now());
  // Renewed at once when it starts ticking again, or at another pace: the value kept meanwhile may be old.
  useEffect(() => {
    if (enabled) setNow(Date.now());
  }, [ms, enabled]);
  useInterval(() => setNow(Date.now()), ms, enabled);
  return now;
}

/** How long after an item's time the list is asked every second (the release worker acts within one). */
export const watchDueForMs = 90_000;

export interface WatchedList<T> {
  items: T[] | undefined;
  error: unknown;
  /** The time, renewed every second while something counts down, every `idleEveryMs` otherwise. */
  now: number;
  /** Put what a write answered into the list. */
  setItems: (items: T[]) => void;
  reload: () => void;
}

/** A watched list that also takes what a write answered, item by item (kept in the list's order). */
export type EditableWatchedList<T> = Omit<WatchedList<T>, 'setItems'> & { put: (item: T) => void };

/**
 * A list of things the release worker acts on at their time (scheduled changes, release plans), kept fresh by
 * asking again: every second once one is due (until the worker has acted), every `everyMs(items)` otherwise. When
 * an answer shows the worker changed the flag (`changedTheFlag`), `onFlagChanged` runs, so the page shows the flag
 * as it is now.
 */
export function useWatchedList<T>(
  load: (signal: AbortSignal) => Promise<T[]>,
  deps: DependencyList,
  options: {
    /** When an item is due, if it waits for a time. */
    dueAt: (item: T) => string | null;
    everyMs: (items: T[]) => number;
    changedTheFlag: (before: T[] | undefined, after: T[]) => boolean;
    onFlagChanged: () => void;
  },
): WatchedList<T> {
  const lastAsked = useRef(0);
  const resource = useResource(async (signal) => {
    lastAsked.current = Date.now();
    return load(signal);
  }, deps);
  const items = resource.data;
  const optionsRef = useRef(options);
  optionsRef.current = options;

  const previous = useRef<T[] | undefined>(undefined);
  useEffect(() => {
    if (!items) return;
    const before = previous.current;
    previous.current = items;
    if (optionsRef.current.changedTheFlag(before, items)) optionsRef.current.onFlagChanged();
  }, [items]);

  const waiting = (items ?? []).some((item) => options.dueAt(item) !== null);
  const idleEveryMs = options.everyMs(items ?? []);
  const now = useNow(waiting ? 1000 : idleEveryMs);
  useInterval(() => {
    if (resource.loading) return;
    const at = Date.now();
    const due = (items ?? []).some((item) => {
      const time = optionsRef.current.dueAt(item);
      return time !== null && Date.parse(time) <= at && at - Date.parse(time) < watchDueForMs;
    });
    if (at - lastAsked.current >= (due ? 900 : idleEveryMs)) resource.reload();
  }, 1000);

  return { items, error: resource.error, now, setItems: resource.setData, reload: resource.reload };
}
