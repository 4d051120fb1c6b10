//! The schema of the database and its migrations, versioned in `stockbridge_schema`.
//!
//! Migration `n` (1-based) brings the schema from version `n - 1` to `n`. Migrations are only
//! ever appended: a released one is never edited. Every table lives in the connection's
//! current schema (the first of its `search_path`).

use stockbridge_ports::StoreError;
use tokio_postgres::Client;

use crate::error::{store_error, PostgresError};

/// The migrations, oldest first.
const MIGRATIONS: &[&str] = &[
    // 1: the state of each shop, as the SQLite store keeps it for one. `shop_id` 0 is the
    // shop of a single-shop process; `epoch` is the lease epoch a fleet worker wrote under
    // (NULL for a single-shop process). Times are `timestamptz`.
    r#"
    CREATE TABLE confirmed_quantities (
        shop_id       BIGINT      NOT NULL,
        sku_id        TEXT        NOT NULL,
        warehouse_id  TEXT        NOT NULL,
        quantity      BIGINT      NOT NULL CHECK (quantity BETWEEN 0 AND 999999),
        confirmed_at  TIMESTAMPTZ NOT NULL,
        epoch         BIGINT,
        PRIMARY KEY (shop_id, sku_id, warehouse_id)
    );

    CREATE TABLE runs (
        id              BIGSERIAL   PRIMARY KEY,
        shop_id         BIGINT      NOT NULL,
        kind            TEXT        NOT NULL CHECK (kind IN ('sync', 'reconcile')),
        started_at      TIMESTAMPTZ NOT NULL,
        finished_at     TIMESTAMPTZ,
        lines           BIGINT      NOT NULL DEFAULT 0 CHECK (lines >= 0),
        updated         BIGINT      NOT NULL DEFAULT 0 CHECK (updated >= 0),
        unchanged       BIGINT      NOT NULL DEFAULT 0 CHECK (unchanged >= 0),
        failed          BIGINT      NOT NULL DEFAULT 0 CHECK (failed >= 0),
        outcome         TEXT        NOT NULL
            CHECK (outcome IN ('running', 'succeeded', 'partly_failed', 'aborted')),
        outcome_detail  TEXT,
        epoch           BIGINT
    );
    CREATE INDEX runs_by_shop ON runs (shop_id, id);

    CREATE TABLE audit_log (
        id            BIGSERIAL   PRIMARY KEY,
        shop_id       BIGINT      NOT NULL,
        at            TIMESTAMPTZ NOT NULL,
        run_id        BIGINT      REFERENCES runs (id) ON DELETE CASCADE,
        product_id    TEXT        NOT NULL,
        sku_id        TEXT        NOT NULL,
        seller_sku    TEXT        NOT NULL,
        warehouse_id  TEXT        NOT NULL,
        old           BIGINT      CHECK (old BETWEEN 0 AND 999999),
        new           BIGINT      NOT NULL CHECK (new BETWEEN 0 AND 999999),
        explanation   TEXT        NOT NULL,
        "trigger"     TEXT        NOT NULL,
        outcome       TEXT        NOT NULL CHECK (outcome IN ('applied', 'rejected', 'failed')),
        code          TEXT,
        message       TEXT,
        epoch         BIGINT
    );
    CREATE INDEX audit_log_by_shop ON audit_log (shop_id, id);
    CREATE INDEX audit_log_by_sku ON audit_log (shop_id, sku_id, id);

    CREATE TABLE processed_webhooks (
        shop_id      BIGINT      NOT NULL,
        id           TEXT        NOT NULL,
        received_at  TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (shop_id, id)
    );
    CREATE INDEX processed_webhooks_by_time ON processed_webhooks (received_at);

    CREATE TABLE platform_tokens (
        shop_id             BIGINT      NOT NULL,
        platform            TEXT        NOT NULL,
        access_token        TEXT        NOT NULL,
        refresh_token       TEXT        NOT NULL,
        access_expires_at   TIMESTAMPTZ,
        refresh_expires_at  TIMESTAMPTZ,
        epoch               BIGINT,
        PRIMARY KEY (shop_id, platform)
    );

    CREATE TABLE held_writes (
        shop_id       BIGINT      NOT NULL,
        sku_id        TEXT        NOT NULL,
        warehouse_id  TEXT        NOT NULL,
        held_at       TIMESTAMPTZ NOT NULL,
        run_id        BIGINT      REFERENCES runs (id) ON DELETE CASCADE,
        product_id    TEXT        NOT NULL,
        seller_sku    TEXT        NOT NULL,
        old           BIGINT      NOT NULL CHECK (old BETWEEN 1 AND 999999),
        explanation   TEXT        NOT NULL,
        epoch         BIGINT,
        PRIMARY KEY (shop_id, sku_id, warehouse_id)
    );
    "#,
    // 2: the fleet: shops (their secrets sealed), one lease per shop with a fencing epoch,
    // the workers seen, and the database's refusal of any state write whose epoch is not the
    // shop's current one.
    r#"
    CREATE TABLE shops (
        id                  BIGSERIAL   PRIMARY KEY,
        shop_domain         TEXT        NOT NULL,
        tiktok_shop_cipher  TEXT        NOT NULL,
        settings            TEXT        NOT NULL,
        sealed_secrets      BYTEA       NOT NULL,
        added_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
        UNIQUE (shop_domain, tiktok_shop_cipher)
    );

    CREATE TABLE shop_leases (
        shop_id     BIGINT      PRIMARY KEY REFERENCES shops (id) ON DELETE CASCADE,
        owner       TEXT,
        epoch       BIGINT      NOT NULL DEFAULT 0 CHECK (epoch >= 0),
        expires_at  TIMESTAMPTZ NOT NULL DEFAULT '-infinity'
    );
    CREATE INDEX shop_leases_by_owner ON shop_leases (owner);

    CREATE TABLE fleet_workers (
        worker_id   TEXT        PRIMARY KEY,
        expires_at  TIMESTAMPTZ NOT NULL
    );

    -- Refuses (SQLSTATE SB001) a write for `shop` under `writer_epoch` unless that epoch is the
    -- shop's current lease epoch and the lease is held and unexpired. A shop without a lease
    -- row (shop 0 of a single-shop process, or a removed shop's leftovers) takes only writes
    -- without an epoch. The lease row is locked FOR SHARE until the writing transaction ends,
    -- so a new grant (which updates the row) waits for it: no write under an old epoch can
    -- commit after a newer epoch was granted.
    CREATE FUNCTION stockbridge_check_fence(shop BIGINT, writer_epoch BIGINT)
    RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
        lease shop_leases%ROWTYPE;
    BEGIN
        SELECT * INTO lease FROM shop_leases WHERE shop_id = shop FOR SHARE;
        IF NOT FOUND THEN
            IF writer_epoch IS NULL THEN
                RETURN;
            END IF;
            RAISE EXCEPTION 'shop % has no lease' , shop
                USING ERRCODE = 'SB001',
                      DETAIL = format('shop=%s epoch=%s current=none', shop, writer_epoch);
        END IF;
        IF writer_epoch IS NULL OR writer_epoch <> lease.epoch OR lease.owner IS NULL
           OR lease.expires_at <= clock_timestamp() THEN
            RAISE EXCEPTION 'stale lease epoch for shop %', shop
                USING ERRCODE = 'SB001',
                      DETAIL = format('shop=%s epoch=%s current=%s', shop,
                                      coalesce(writer_epoch::text, 'none'), lease.epoch);
        END IF;
    END;
    $$;

    -- Rows inserted or updated carry their writer's epoch; a deleting transaction carries it
    -- in the transaction-local setting `stockbridge.epoch`.
    CREATE FUNCTION stockbridge_fence_row() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            PERFORM stockbridge_check_fence(
                OLD.shop_id, nullif(current_setting('stockbridge.epoch', true), '')::bigint);
            RETURN OLD;
        END IF;
        PERFORM stockbridge_check_fence(NEW.shop_id, NEW.epoch);
        RETURN NEW;
    END;
    $$;

    CREATE TRIGGER fenced BEFORE INSERT OR UPDATE OR DELETE ON confirmed_quantities
        FOR EACH ROW EXECUTE FUNCTION stockbridge_fence_row();
    CREATE TRIGGER fenced BEFORE INSERT OR UPDATE OR DELETE ON runs
        FOR EACH ROW EXECUTE FUNCTION stockbridge_fence_row();
    CREATE TRIGGER fenced BEFORE INSERT OR UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION stockbridge_fence_row();
    CREATE TRIGGER fenced BEFORE INSERT OR UPDATE OR DELETE ON platform_tokens
        FOR EACH ROW EXECUTE FUNCTION stockbridge_fence_row();
    CREATE TRIGGER fenced BEFORE INSERT OR UPDATE OR DELETE ON held_writes
        FOR EACH ROW EXECUTE FUNCTION stockbridge_fence_row();
    "#,
    // 3: the ledger of TikTok orders in flight (sync-rules.md §7).
    r#"
    CREATE TABLE held_orders (
        shop_id        BIGINT  NOT NULL,
        order_id       TEXT    NOT NULL,
        status         TEXT    NOT NULL,
        create_time    BIGINT  NOT NULL,
        update_time    BIGINT  NOT NULL,
        first_seen_ms  BIGINT  NOT NULL,
        copied_at_ms   BIGINT,
        epoch          BIGINT,
        PRIMARY KEY (shop_id, order_id)
    );
    CREATE INDEX held_orders_by_first_seen ON held_orders (shop_id, first_seen_ms);

    CREATE TABLE held_order_lines (
        shop_id       BIGINT  NOT NULL,
        order_id      TEXT    NOT NULL,
        line          BIGINT  NOT NULL,
        sku_id        TEXT    NOT NULL,
        seller_sku    TEXT,
        warehouse_id  TEXT,
        quantity      BIGINT  NOT NULL CHECK (quantity >= 0),
        epoch         BIGINT,
        PRIMARY KEY (shop_id, order_id, line)
    );

    CREATE TRIGGER fenced BEFORE INSERT OR UPDATE OR DELETE ON held_orders
        FOR EACH ROW EXECUTE FUNCTION stockbridge_fence_row();
    CREATE TRIGGER fenced BEFORE INSERT OR UPDATE OR DELETE ON held_order_lines
        FOR EACH ROW EXECUTE FUNCTION stockbridge_fence_row();
    "#,
    // 4: the fleet's dirty items: the inventory items a webhook (answered by any worker) said
    // changed, waiting for the shop's lease holder. One row per (shop, item), the newest mark
    // winning; item 0 asks for a full reconciliation (a location changed). Not fenced: any
    // worker marks, and the owner takes them with a statement that checks its lease.
    r#"
    CREATE TABLE dirty_items (
        shop_id     BIGINT      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
        item_id     BIGINT      NOT NULL CHECK (item_id >= 0),
        marked_at   TIMESTAMPTZ NOT NULL,
        first_marked_at TIMESTAMPTZ NOT NULL,
        changed_at  TIMESTAMPTZ NOT NULL,
        topic       TEXT        NOT NULL,
        PRIMARY KEY (shop_id, item_id)
    );
    "#,
    // 5: TikTok order webhooks on any worker: a shop is found by the TikTok shop id its
    // webhooks carry (its owner reads it from TikTok's authorized shops), and the orders a
    // webhook names wait for the shop's lease holder, one row per (shop, order), the newest
    // `update_time` winning. Not fenced, as dirty items.
    r#"
    ALTER TABLE shops ADD COLUMN tiktok_shop_id TEXT;
    CREATE INDEX shops_by_tiktok_shop_id ON shops (tiktok_shop_id);

    CREATE TABLE dirty_orders (
        shop_id         BIGINT      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
        order_id        TEXT        NOT NULL,
        status          TEXT        NOT NULL,
        update_time     BIGINT      NOT NULL,
        first_marked_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (shop_id, order_id)
    );
    "#,
    // 6: Shopify `orders/create` on any worker: the fields of a new Shopify order that may
    // carry a held TikTok order's id, waiting for the shop's lease holder, one row per
    // delivery. `seen_at` is when the answering worker saw it (a copy ends a hold only for
    // levels read after it was seen); `marked_at` is the database's time, for the lag. Not
    // fenced, as dirty items.
    r#"
    CREATE TABLE shopify_order_marks (
        id                BIGSERIAL   PRIMARY KEY,
        shop_id           BIGINT      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
        source_identifier TEXT,
        tags              TEXT[]      NOT NULL,
        attribute_values  TEXT[]      NOT NULL,
        note              TEXT,
        seen_at           TIMESTAMPTZ NOT NULL,
        marked_at         TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX shopify_order_marks_by_shop ON shopify_order_marks (shop_id);
    "#,
    // 7: the number and time an `inventory_levels/update` carries, kept beside its item's
    // mark for the owner's trust rule (a payload provably the newest is applied without a
    // Shopify read), one row per (shop, item, location). A payload that is not strictly newer
    // than the one waiting, or has no number or no time, leaves no number (`available`
    // NULL): the owner re-reads the item, as a one-shop server does. `needs_read` on an
    // item's mark says a webhook of another topic named it: its payloads alone cannot
    // stand for it. Not fenced, as dirty items.
    r#"
    ALTER TABLE dirty_items ADD COLUMN needs_read BOOLEAN NOT NULL DEFAULT TRUE;

    CREATE TABLE dirty_levels (
        shop_id     BIGINT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
        item_id     BIGINT NOT NULL CHECK (item_id > 0),
        location_id BIGINT NOT NULL,
        available   BIGINT,
        updated_at  BIGINT,
        PRIMARY KEY (shop_id, item_id, location_id)
    );
    "#,
];

/// The schema version this build writes: the number of migrations.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the schema to [`SCHEMA_VERSION`], one transaction per migration, and refuses a
/// schema from a newer build. Safe to run on every start and by many processes at once: each
/// transaction first takes an advisory lock named after the current schema, then creates the
/// version table when missing and reads the version under it.
pub(crate) async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    loop {
        let step = async {
            let tx = client.transaction().await?;
            tx.batch_execute(
                "SELECT pg_advisory_xact_lock(hashtext('stockbridge_schema.' || current_schema()));
                 CREATE TABLE IF NOT EXISTS stockbridge_schema (
                     only_row  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
                     version   BIGINT  NOT NULL
                 );
                 INSERT INTO stockbridge_schema (version) VALUES (0) ON CONFLICT DO NOTHING;",
            )
            .await?;
            let found: i64 = tx
                .query_one("SELECT version FROM stockbridge_schema", &[])
                .await?
                .get(0);
            let Some(sql) = usize::try_from(found).ok().and_then(|n| MIGRATIONS.get(n)) else {
                tx.commit().await?;
                return Ok((found, false));
            };
            tx.batch_execute(sql).await?;
            tx.execute(
                "UPDATE stockbridge_schema SET version = $1",
                &[&(found + 1)],
            )
            .await?;
            tx.commit().await?;
            Ok((found + 1, true))
        }
        .await;
        match step {
            Ok((version, true)) => tracing::info!(version, "database schema migrated"),
            Ok((found, false)) => return refuse_newer(found),
            Err(source) => {
                let version = 1 + version(client).await.unwrap_or(0);
                return Err(PostgresError::Migration { version, source }.into());
            }
        }
    }
}

async fn version(client: &Client) -> Result<i64, StoreError> {
    client
        .query_one("SELECT version FROM stockbridge_schema", &[])
        .await
        .map(|row| row.get(0))
        .map_err(store_error)
}

fn refuse_newer(found: i64) -> Result<(), StoreError> {
    if found > SCHEMA_VERSION {
        return Err(PostgresError::NewerSchema {
            found,
            known: SCHEMA_VERSION,
        }
        .into());
    }
    Ok(())
}
