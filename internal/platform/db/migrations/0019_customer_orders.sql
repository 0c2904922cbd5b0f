-- Orders placed by customers (issue 20): how fast it goes, whether it is paid, and
-- what is in it. Existing packages are standard deliveries that need no payment.
ALTER TABLE packages
  ADD COLUMN delivery_option text NOT NULL DEFAULT 'standard' CHECK (delivery_option IN ('standard', 'express', 'same_day')),
  ADD COLUMN payment_status text NOT NULL DEFAULT 'not_required' CHECK (payment_status IN ('not_required', 'pending', 'paid', 'refunded')),
  ADD COLUMN items jsonb;

-- Staff filter lists by owner and by driver, newest first: these serve the filter and
-- the order together (the single-column indexes they replace served only the filter).
CREATE INDEX packages_customer_list_idx ON packages (customer_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX packages_driver_list_idx ON packages (driver_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
DROP INDEX packages_customer_idx;
DROP INDEX packages_driver_idx;
