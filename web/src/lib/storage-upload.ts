import { storageErrorText } from './driver-rules.js'

/** The storage's refusal of an upload, with a message for the driver. */
export class StorageUploadError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/**
 * Sends a file straight to object storage with a presigned POST: the fields
 * first, the file last (S3 ignores fields after it). XMLHttpRequest rather than
 * fetch, because only it reports upload progress. Resolves when stored.
 */
export function uploadToStorage(grant: { url: string; fields: Record<string, string> }, file: Blob, onProgress: (fraction: number) => void): Promise<void> {
  const form = new FormData()
  for (const [name, value] of Object.entries(grant.fields)) form.append(name, value)
  form.append('file', file)
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', grant.url)
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total)
    }
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1)
        resolve()
      } else reject(new StorageUploadError(xhr.status, storageErrorText(xhr.status, xhr.responseText)))
    }
    // CORS refusals and network failures look alike to a page: status 0.
    xhr.onerror = () => reject(new StorageUploadError(0, storageErrorText(0, '')))
    xhr.send(form)
  })
}
