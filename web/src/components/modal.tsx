import type { ComponentChildren } from 'preact'
import { useEffect, useId, useRef } from 'preact/hooks'

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])'

interface ModalProps {
  title: string
  onClose: () => void
  children: ComponentChildren
  /** A class for the dialog (width variants). */
  size?: 'small' | 'wide'
}

/**
 * A modal dialog on the native <dialog>: the page behind is inert, Tab cycles
 * inside, Esc and the close button dismiss it, and focus returns to whatever
 * opened it. Render it only while open.
 */
export function Modal({ title, onClose, children, size }: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null)
  const closeRef = useRef(onClose)
  closeRef.current = onClose
  const titleId = useId()
  // Taken during the first render, while whatever opened the dialog still has focus
  // (an effect runs later, when focus may already have moved).
  const openerRef = useRef(document.activeElement instanceof HTMLElement ? document.activeElement : null)

  useEffect(() => {
    const dialog = ref.current!
    const opener = openerRef.current
    if (!dialog.open) dialog.showModal()
    const first = dialog.querySelector<HTMLElement>('[data-autofocus]') ?? dialog.querySelector<HTMLElement>('.modal-body ' + FOCUSABLE.split(', ').join(', .modal-body '))
    first?.focus()
    let closing = false
    const onNativeClose = () => {
      if (!closing) closeRef.current()
    }
    dialog.addEventListener('close', onNativeClose)
    return () => {
      closing = true
      dialog.removeEventListener('close', onNativeClose)
      if (dialog.open) dialog.close()
      // After the native close has moved focus wherever it likes.
      if (opener?.isConnected) {
        opener.focus()
        queueMicrotask(() => opener.isConnected && opener.focus())
      }
    }
  }, [])

  const onKeyDown = (ev: KeyboardEvent) => {
    if (ev.key !== 'Tab') return
    const items = [...ref.current!.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.offsetParent !== null)
    const first = items[0]
    const last = items[items.length - 1]
    if (!first || !last) return
    if (ev.shiftKey && document.activeElement === first) {
      ev.preventDefault()
      last.focus()
    } else if (!ev.shiftKey && document.activeElement === last) {
      ev.preventDefault()
      first.focus()
    }
  }

  return (
    <dialog
      ref={ref}
      class={`modal${size ? ` modal-${size}` : ''}`}
      aria-labelledby={titleId}
      onKeyDown={onKeyDown}
      onCancel={(ev) => {
        ev.preventDefault()
        onClose()
      }}
    >
      <div class="modal-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" class="icon-button" aria-label="Close" onClick={onClose}>
          <span aria-hidden="true">×</span>
        </button>
      </div>
      <div class="modal-body">{children}</div>
    </dialog>
  )
}

interface ConfirmProps {
  title: string
  message: ComponentChildren
  confirmLabel: string
  danger?: boolean
  busy?: boolean
  error?: string
  onConfirm: () => void
  onCancel: () => void
}

/** "Are you sure?" with the safe choice focused first. */
export function ConfirmDialog({ title, message, confirmLabel, danger, busy, error, onConfirm, onCancel }: ConfirmProps) {
  return (
    <Modal title={title} onClose={onCancel} size="small">
      <p>{message}</p>
      {error && <p class="error" role="alert">{error}</p>}
      <div class="actions">
        <button type="button" class="button secondary" onClick={onCancel} data-autofocus>
          Cancel
        </button>
        <button type="button" class={`button${danger ? ' danger' : ''}`} onClick={onConfirm} disabled={busy}>
          {busy ? 'Working…' : confirmLabel}
        </button>
      </div>
    </Modal>
  )
}
