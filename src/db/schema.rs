// @generated automatically by Diesel CLI.

diesel::table! {
    accounts (id) {
        id -> Uuid,
        email -> Text,
        password_hash -> Text,
        full_name -> Text,
        role -> Text,
        issuer -> Nullable<Text>,
        disabled_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    audit_chain_head (id) {
        id -> Bool,
        last_seq -> Int8,
        last_hash -> Text,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> Int8,
        occurred_at -> Timestamptz,
        actor -> Text,
        action -> Text,
        entity_type -> Text,
        entity_id -> Nullable<Text>,
        detail -> Jsonb,
        detail_digest -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    districts (code) {
        code -> Text,
        name -> Text,
        name_en -> Text,
        region -> Text,
    }
}

diesel::table! {
    issuers (code) {
        code -> Text,
        name -> Text,
        name_en -> Text,
        district -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    regions (code) {
        code -> Text,
        name -> Text,
        name_en -> Text,
    }
}

diesel::table! {
    service_categories (code) {
        code -> Text,
        name -> Text,
        name_en -> Text,
        position -> Int4,
    }
}

diesel::joinable!(accounts -> issuers (issuer));
diesel::joinable!(districts -> regions (region));
diesel::joinable!(issuers -> districts (district));

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    audit_chain_head,
    audit_log,
    districts,
    issuers,
    regions,
    service_categories,
);
