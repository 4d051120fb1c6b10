//! TikTok orders in flight and their Shopify copies (sync-rules.md §7): which orders hold
//! units, and when a hold ends. The caller keeps the ledger and passes times in (Unix
//! milliseconds of its own clock); this module decides.

use crate::hold::HoldLine;
use crate::ids::{OrderId, Sku, SkuId, WarehouseId};

/// A TikTok order's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Not paid yet; TikTok already reserves the stock.
    Unpaid,
    /// Held by TikTok (e.g. a risk check).
    OnHold,
    /// Paid, to be shipped.
    AwaitingShipment,
    /// Some packages shipped.
    PartiallyShipping,
    /// Waiting for the carrier.
    AwaitingCollection,
    /// Shipped.
    InTransit,
    /// Delivered.
    Delivered,
    /// Done.
    Completed,
    /// Cancelled: the units are back in TikTok's stock.
    Cancelled,
    /// A status this version does not know.
    Unknown,
}

impl OrderStatus {
    /// Reads TikTok's name (`AWAITING_SHIPMENT`); an unknown name is [`OrderStatus::Unknown`].
    pub fn parse(text: &str) -> OrderStatus {
        match text.trim() {
            "UNPAID" => OrderStatus::Unpaid,
            "ON_HOLD" => OrderStatus::OnHold,
            "AWAITING_SHIPMENT" => OrderStatus::AwaitingShipment,
            "PARTIALLY_SHIPPING" => OrderStatus::PartiallyShipping,
            "AWAITING_COLLECTION" => OrderStatus::AwaitingCollection,
            "IN_TRANSIT" => OrderStatus::InTransit,
            "DELIVERED" => OrderStatus::Delivered,
            "COMPLETED" => OrderStatus::Completed,
            "CANCELLED" => OrderStatus::Cancelled,
            _ => OrderStatus::Unknown,
        }
    }

    /// TikTok's name; `UNKNOWN` for an unknown one.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Unpaid => "UNPAID",
            OrderStatus::OnHold => "ON_HOLD",
            OrderStatus::AwaitingShipment => "AWAITING_SHIPMENT",
            OrderStatus::PartiallyShipping => "PARTIALLY_SHIPPING",
            OrderStatus::AwaitingCollection => "AWAITING_COLLECTION",
            OrderStatus::InTransit => "IN_TRANSIT",
            OrderStatus::Delivered => "DELIVERED",
            OrderStatus::Completed => "COMPLETED",
            OrderStatus::Cancelled => "CANCELLED",
            OrderStatus::Unknown => "UNKNOWN",
        }
    }

    /// Whether an order in this status holds its units (§7): the five statuses before
    /// shipping, and a status this version does not know (never oversell). Shipped,
    /// delivered, completed and cancelled orders hold nothing.
    pub fn holds(self) -> bool {
        !matches!(
            self,
            OrderStatus::InTransit
                | OrderStatus::Delivered
                | OrderStatus::Completed
                | OrderStatus::Cancelled
        )
    }
}

/// One line of a TikTok order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    /// The TikTok SKU.
    pub sku_id: SkuId,
    /// Its seller SKU, when the order says.
    pub seller_sku: Option<Sku>,
    /// The warehouse it ships from, when the order says.
    pub warehouse: Option<WarehouseId>,
    /// Units.
    pub quantity: u64,
}

/// A TikTok order as read from TikTok.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TikTokOrder {
    /// Its id.
    pub id: OrderId,
    /// Its status.
    pub status: OrderStatus,
    /// When it was placed, Unix seconds (TikTok's clock).
    pub create_time: i64,
    /// When it last changed, Unix seconds (TikTok's clock).
    pub update_time: i64,
    /// Its lines, one per SKU and warehouse.
    pub lines: Vec<OrderLine>,
}

/// A TikTok order in the ledger: what TikTok said last, and what Stockbridge saw when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldOrder {
    /// The order as TikTok said last.
    pub order: TikTokOrder,
    /// When Stockbridge first saw it, Unix milliseconds (its own clock).
    pub first_seen_ms: i64,
    /// When Stockbridge first saw the order's Shopify copy, Unix milliseconds.
    pub copied_at_ms: Option<i64>,
}

/// Why an order in the ledger holds nothing for a computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldEnd {
    /// Shopify had the copy before the computation read its levels.
    Copied,
    /// TikTok says it is shipped, delivered, completed or cancelled.
    Status(OrderStatus),
    /// It held for longer than `max_hold`.
    Expired,
}

impl HeldOrder {
    /// Whether the order holds its units for a computation whose Shopify levels were read
    /// from `read_at_ms` on, at `now_ms`; `Err` says why not.
    ///
    /// A Shopify copy ends the hold only for levels read after the copy was seen: levels
    /// read before may not show the sale yet, and a unit must never be missing both from
    /// the hold and from Shopify's number.
    pub fn holds(&self, read_at_ms: i64, now_ms: i64, max_hold_ms: i64) -> Result<(), HoldEnd> {
        if !self.order.status.holds() {
            return Err(HoldEnd::Status(self.order.status));
        }
        if self.copied_at_ms.is_some_and(|copied| copied <= read_at_ms) {
            return Err(HoldEnd::Copied);
        }
        if now_ms.saturating_sub(self.first_seen_ms) > max_hold_ms {
            return Err(HoldEnd::Expired);
        }
        Ok(())
    }

    /// The order's lines as hold lines.
    pub fn hold_lines(&self) -> impl Iterator<Item = HoldLine> + '_ {
        self.order.lines.iter().map(|line| HoldLine {
            order: self.order.id.clone(),
            sku_id: line.sku_id.clone(),
            seller_sku: line.seller_sku.clone(),
            warehouse: line.warehouse.clone(),
            quantity: line.quantity,
        })
    }
}

/// Where an order-sync app may write the TikTok order id on the Shopify copy
/// (`[orders] match_fields`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchField {
    /// `sourceIdentifier` equals the id.
    SourceIdentifier,
    /// A tag equals the id.
    Tag,
    /// A custom attribute's value equals the id.
    CustomAttribute,
    /// The note contains the id (not as part of a longer number).
    Note,
}

impl MatchField {
    /// Every field, the default of `[orders] match_fields`.
    pub const ALL: [MatchField; 4] = [
        MatchField::SourceIdentifier,
        MatchField::Tag,
        MatchField::CustomAttribute,
        MatchField::Note,
    ];

    /// The configuration name: `source_identifier`, `tag`, `custom_attribute`, `note`.
    pub fn name(self) -> &'static str {
        match self {
            MatchField::SourceIdentifier => "source_identifier",
            MatchField::Tag => "tag",
            MatchField::CustomAttribute => "custom_attribute",
            MatchField::Note => "note",
        }
    }

    /// Reads a configuration name.
    pub fn parse(name: &str) -> Option<MatchField> {
        MatchField::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// The fields of a Shopify order that may carry a TikTok order id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShopifyOrderMarks {
    /// `sourceIdentifier`.
    pub source_identifier: Option<String>,
    /// `tags`.
    pub tags: Vec<String>,
    /// The values of `customAttributes`.
    pub attribute_values: Vec<String>,
    /// `note`.
    pub note: Option<String>,
}

impl ShopifyOrderMarks {
    /// Whether this order carries `order` in one of `fields`: it is then its Shopify copy.
    pub fn carries(&self, order: &OrderId, fields: &[MatchField]) -> bool {
        let id = order.as_str();
        let equals = |text: &str| text.trim() == id;
        fields.iter().any(|field| match field {
            MatchField::SourceIdentifier => self.source_identifier.as_deref().is_some_and(equals),
            MatchField::Tag => self.tags.iter().any(|t| equals(t)),
            MatchField::CustomAttribute => self.attribute_values.iter().any(|v| equals(v)),
            MatchField::Note => self.note.as_deref().is_some_and(|n| contains_number(n, id)),
        })
    }
}

/// Whether `text` holds `id` with no digit right before or after it.
fn contains_number(text: &str, id: &str) -> bool {
    if id.is_empty() {
        return false;
    }
    text.match_indices(id).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + id.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests;
