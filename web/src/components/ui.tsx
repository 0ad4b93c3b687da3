import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useId,
  useRef,
  useState,
  type ButtonHTMLAttributes,
  type ReactNode,
} from 'react';
import { ApiError, describeError, fieldLabel, onActivity } from '../api/client.ts';
import type { Role } from '../api/types.ts';

/** An API (or any) failure as sentences, with the fields it points at. */
export function ErrorBox({ error, onRetry, title }: { error: unknown; onRetry?: () => void; title?: string }) {
  if (error === undefined || error === null) return null;
  const fields = error instanceof ApiError ? error.errors : [];
  return (
    <div className="alert alert-error" role="alert" data-testid="error">
      {title ? <strong>{title} </strong> : null}
      <span>{describeError(error)}</span>
      {fields.length > 0 ? (
        <ul className="field-errors">
          {fields.map((f, i) => (
            <li key={i}>
              <strong>{fieldLabel(f.path)}</strong> {f.message}
            </li>
          ))}
        </ul>
      ) : null}
      {onRetry ? (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export function Spinner({ label }: { label?: string }) {
  return <span className="spinner" role={label ? 'status' : undefined} aria-label={label} aria-hidden={label ? undefined : true} />;
}

export function Loading({ what }: { what: string }) {
  return (
    <div className="loading" role="status">
      <Spinner /> Loading {what}…
    </div>
  );
}

type ButtonProps = ButtonHTMLAttributes<HTMLButtonElement> & {
  variant?: 'primary' | 'secondary' | 'danger' | 'ghost';
  small?: boolean;
  busy?: boolean;
  busyLabel?: string;
  /** When set, the button is disabled and this says why (shown on hover and to screen readers). */
  disabledReason?: string | undefined;
};

/** A button that shows progress while its action runs, and says why when it cannot be used. */
export function Button({
  variant = 'secondary',
  small,
  busy,
  busyLabel,
  disabledReason,
  children,
  className,
  disabled,
  ...rest
}: ButtonProps) {
  const reasonId = useId();
  const classes = ['btn', `btn-${variant}`, small ? 'btn-small' : '', className ?? ''].filter(Boolean).join(' ');
  return (
    <>
      <button
        type="button"
        {...rest}
        className={classes}
        disabled={Boolean(disabled || busy || disabledReason)}
        aria-busy={busy || undefined}
        title={disabledReason ?? rest.title}
        aria-describedby={disabledReason ? reasonId : rest['aria-describedby']}
      >
        {busy ? <Spinner /> : null}
        {busy && busyLabel ? busyLabel : children}
      </button>
      {disabledReason ? (
        <span id={reasonId} className="visually-hidden">
          {disabledReason}
        </span>
      ) : null}
    </>
  );
}

/** A modal confirmation (the native <dialog>: focus is trapped and Escape cancels). */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  /** The button that closes it without doing anything (default "Cancel"; say "Keep it" when the action is itself a cancelling). */
  cancelLabel?: string;
  danger?: boolean;
  busy?: boolean;
  error?: unknown;
  /** Ask the person to type this before the confirm button unlocks (for irreversible actions). */
  typeToConfirm?: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [typed, setTyped] = useState('');
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) {
      setTyped('');
      dialog.showModal();
    }
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  const locked = props.typeToConfirm !== undefined && typed !== props.typeToConfirm;
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        if (!props.busy) props.onCancel();
      }}
      data-testid="confirm-dialog"
    >
      <form
        method="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          if (!locked) props.onConfirm();
        }}
      >
        <h2 id={titleId}>{props.title}</h2>
        <div className="dialog-body">{props.children}</div>
        {props.typeToConfirm !== undefined ? (
          <label className="field">
            <span>
              Type <code>{props.typeToConfirm}</code> to confirm
            </span>
            <input
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
              autoComplete="off"
              spellCheck={false}
              data-testid="confirm-input"
            />
          </label>
        ) : null}
        <ErrorBox error={props.error} />
        <div className="dialog-actions">
          <Button onClick={props.onCancel} disabled={props.busy}>
            {props.cancelLabel ?? 'Cancel'}
          </Button>
          <Button
            type="submit"
            variant={props.danger ? 'danger' : 'primary'}
            busy={props.busy}
            disabled={locked}
            data-testid="confirm-button"
          >
            {props.confirmLabel}
          </Button>
        </div>
      </form>
    </dialog>
  );
}

interface Toast {
  id: number;
  text: string;
}

const ToastContext = createContext<(text: string) => void>(() => {});

/** Short confirmations ("Saved") in a polite live region. */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);
  const show = useCallback((text: string) => {
    const id = next.current++;
    setToasts((list) => [...list.slice(-2), { id, text }]);
    window.setTimeout(() => setToasts((list) => list.filter((t) => t.id !== id)), 4000);
  }, []);
  return (
    <ToastContext.Provider value={show}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className="toast">
            {t.text}
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export function useToast(): (text: string) => void {
  return useContext(ToastContext);
}

/** A thin bar at the top of the page while any call is on its way. */
export function ActivityBar() {
  const [active, setActive] = useState(false);
  useEffect(() => {
    let timer: number | undefined;
    const unsubscribe = onActivity((inFlight) => {
      window.clearTimeout(timer);
      // Only calls that take a moment show the bar, so quick ones do not flicker.
      if (inFlight > 0) timer = window.setTimeout(() => setActive(true), 150);
      else setActive(false);
    });
    return () => {
      window.clearTimeout(timer);
      unsubscribe();
    };
  }, []);
  return <div className={`activity-bar${active ? ' active' : ''}`} aria-hidden="true" />;
}

export function Field({
  label,
  hint,
  error,
  children,
  className,
}: {
  label: ReactNode;
  hint?: ReactNode;
  error?: string | undefined;
  children: ReactNode;
  className?: string;
}) {
  return (
    <label className={`field${error ? ' field-invalid' : ''}${className ? ` ${className}` : ''}`}>
      <span className="field-label">{label}</span>
      {children}
      {error ? (
        <span className="field-error" role="alert">
          {error}
        </span>
      ) : hint ? (
        <span className="field-hint">{hint}</span>
      ) : null}
    </label>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

export function Badge({
  tone = 'neutral',
  children,
  testId,
  title,
}: {
  tone?: 'neutral' | 'on' | 'off' | 'warn' | 'info';
  children: ReactNode;
  testId?: string;
  /** What the badge means, on hover. */
  title?: string;
}) {
  return (
    <span className={`badge badge-${tone}`} data-testid={testId} title={title}>
      {children}
    </span>
  );
}

const roles: Role[] = ['viewer', 'editor', 'admin'];

/** A menu of the three roles (an account's, an invitation's, a project member's). */
export function RoleSelect({
  value,
  onChange,
  label,
  disabled,
  testId,
}: {
  value: Role;
  onChange: (role: Role) => void;
  /** Its accessible name where no visible label names it (a table cell). */
  label?: string;
  disabled?: boolean;
  testId: string;
}) {
  return (
    <select aria-label={label} value={value} disabled={disabled} onChange={(e) => onChange(e.target.value as Role)} data-testid={testId}>
      {roles.map((r) => (
        <option key={r} value={r}>
          {r}
        </option>
      ))}
    </select>
  );
}

/** Says, where an edit control would be, why it is not there. */
export function ReadOnlyNote({ reason }: { reason: string }) {
  return (
    <p className="readonly-note" data-testid="readonly-note">
      {reason}
    </p>
  );
}

/**
 * Copying to the clipboard, and what came of it: `copied`, or `refused` (an insecure origin, or the browser said
 * no), in which case `onRefused` runs, e.g. to select the text so that Ctrl+C (⌘C) copies it.
 */
export function useCopy(): { state: 'copied' | 'refused' | undefined; copy: (text: string, onRefused?: () => void) => Promise<void> } {
  const [state, setState] = useState<'copied' | 'refused' | undefined>(undefined);
  const copy = useCallback(async (text: string, onRefused?: () => void) => {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      onRefused?.();
      setState('refused');
    }
  }, []);
  return { state, copy };
}
