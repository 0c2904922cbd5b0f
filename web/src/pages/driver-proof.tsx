import { useRef, useState } from 'preact/hooks'
import type { ApiError } from '../api/base-query.js'
import { useAttachProofMutation, useCreateProofUploadMutation, useGetDriverProofsQuery } from '../api/driver.js'
import { ErrorNote, When } from '../components/bits.js'
import { PROOF_TYPES, isProofType, proofErrorText, proofFileProblem } from '../lib/driver-rules.js'
import { StorageUploadError, uploadToStorage } from '../lib/storage-upload.js'

type Step = { kind: 'idle' } | { kind: 'uploading'; fraction: number } | { kind: 'attaching' } | { kind: 'done' } | { kind: 'failed'; message: string }

const STEP_TEXT: Record<Step['kind'], string> = { idle: '', uploading: 'Uploading the photo…', attaching: 'Saving the proof…', done: 'Proof photo saved.', failed: '' }

/**
 * "Take proof photo": the phone's camera (capture), the file straight to storage
 * through a presigned POST with a progress bar, then the proof recorded.
 */
export function ProofPhoto({ tn, onSaved }: { tn: string; onSaved?: () => void }) {
  const proofs = useGetDriverProofsQuery(tn)
  const [createUpload] = useCreateProofUploadMutation()
  const [attach] = useAttachProofMutation()
  const [step, setStep] = useState<Step>({ kind: 'idle' })
  const input = useRef<HTMLInputElement>(null)
  const busy = step.kind === 'uploading' || step.kind === 'attaching'

  const onChoose = async () => {
    const file = input.current?.files?.[0]
    if (!file) return
    // The same photo may be chosen again after a failure: let the input fire again.
    if (input.current) input.current.value = ''
    const problem = proofFileProblem(file)
    if (problem || !isProofType(file.type)) return setStep({ kind: 'failed', message: problem ?? 'Use a JPEG, PNG or WebP image.' })
    try {
      setStep({ kind: 'uploading', fraction: 0 })
      const grant = await createUpload({ trackingNumber: tn, contentType: file.type, sizeBytes: file.size }).unwrap()
      await uploadToStorage(grant, file, (fraction) => setStep({ kind: 'uploading', fraction }))
      setStep({ kind: 'attaching' })
      await attach({ trackingNumber: tn, uploadId: grant.uploadId, kind: 'photo' }).unwrap()
      setStep({ kind: 'done' })
      onSaved?.()
    } catch (err) {
      setStep({ kind: 'failed', message: err instanceof StorageUploadError ? err.message : proofErrorText(err as ApiError) })
    }
  }

  const fraction = step.kind === 'uploading' ? step.fraction : step.kind === 'idle' || step.kind === 'failed' ? 0 : 1
  const items = proofs.data?.items ?? []
  return (
    <div class="driver-proof" data-proof-state={step.kind}>
      <label class={`button secondary wide${busy ? ' disabled' : ''}`}>
        <input
          ref={input}
          type="file"
          class="visually-hidden"
          accept={PROOF_TYPES.join(',')}
          capture="environment"
          disabled={busy}
          onChange={() => void onChoose()}
        />
        Take proof photo
      </label>
      {step.kind !== 'idle' && step.kind !== 'failed' && (
        <div class="driver-progress">
          <progress max={1} value={fraction} aria-label={`Upload of the proof photo for ${tn}`} />
          <span role="status">{STEP_TEXT[step.kind]}</span>
        </div>
      )}
      {step.kind === 'failed' && <ErrorNote>{step.message}</ErrorNote>}
      {items.length > 0 && (
        <ul class="driver-proofs" aria-label={`Proofs of ${tn}`}>
          {items.map((p) => (
            <li key={p.id}>
              <img src={p.url} alt={`Proof photo, ${p.kind}`} width={64} height={64} loading="lazy" />
              <span class="muted small">
                <When iso={p.uploadedAt} />
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}
