-- Proof of delivery. An upload is a presigned POST handed to a driver: the object
-- key, type and largest size it may have; attaching it makes a proof, once.
CREATE TABLE proof_uploads (
  id           uuid PRIMARY KEY,
  package_id   uuid NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
  object_key   text NOT NULL UNIQUE,
  content_type text NOT NULL,
  size_bytes   bigint NOT NULL CHECK (size_bytes > 0),
  created_by   uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  used         boolean NOT NULL DEFAULT false
);
CREATE INDEX proof_uploads_package_idx ON proof_uploads (package_id);

-- A proof's object stays where the upload put it; the row says what it is.
CREATE TABLE proofs (
  id           uuid PRIMARY KEY,
  package_id   uuid NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
  upload_id    uuid NOT NULL UNIQUE REFERENCES proof_uploads (id),
  kind         text NOT NULL CHECK (kind IN ('photo', 'signature')),
  content_type text NOT NULL,
  size_bytes   bigint NOT NULL,
  object_key   text NOT NULL,
  note         text,
  uploaded_by  uuid REFERENCES users (id) ON DELETE SET NULL,
  uploaded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX proofs_package_idx ON proofs (package_id, uploaded_at, id);
