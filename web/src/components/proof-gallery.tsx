import type { Proof } from '../api/staff.js'
import { formatDateTime } from '../lib/format.js'

/** Proofs of delivery as thumbnails; each opens full size (a presigned link, valid a few minutes). */
export function ProofGallery({ items, uploaderName }: { items: Proof[]; uploaderName: (id: string | null) => string }) {
  if (items.length === 0) return <p class="muted">No proof of delivery yet.</p>
  return (
    <ul class="proofs" aria-label="Proofs of delivery">
      {items.map((p) => (
        <li key={p.id} class="proof" data-proof={p.id}>
          <a href={p.url} target="_blank" rel="noreferrer noopener">
            <img src={p.url} alt={`${p.kind === 'signature' ? 'Signature' : 'Photo'} uploaded by ${uploaderName(p.uploadedBy)}`} width={120} height={90} />
          </a>
          <span class="proof-kind">{p.kind}</span>
          <span class="muted">
            {uploaderName(p.uploadedBy)} · <time dateTime={p.uploadedAt}>{formatDateTime(p.uploadedAt)}</time>
          </span>
          {p.note && <span>{p.note}</span>}
        </li>
      ))}
    </ul>
  )
}
