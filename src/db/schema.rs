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
        mfa_secret -> Nullable<Bytea>,
        mfa_key_id -> Nullable<Text>,
        mfa_confirmed_at -> Nullable<Timestamptz>,
        mfa_last_step -> Nullable<Int8>,
        mfa_failed_step -> Int8,
        mfa_failed_count -> Int4,
    }
}

diesel::table! {
    agencies (id) {
        id -> Uuid,
        name -> Text,
        district -> Text,
        services -> Array<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    agency_clients (id) {
        id -> Uuid,
        agency_id -> Uuid,
        secret_hash -> Text,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
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
    login_throttles (key) {
        key -> Text,
        failures -> Int4,
        hour_started -> Timestamptz,
        hour_failures -> Int4,
        locked_until -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    profiles (account_id) {
        account_id -> Uuid,
        id_type -> Text,
        id_number_ciphertext -> Bytea,
        id_number_key_id -> Text,
        id_number_index -> Text,
        id_number_masked -> Text,
        phone_ciphertext -> Nullable<Bytea>,
        phone_masked -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Uuid,
        issued_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
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
    rule_sets (scheme, version) {
        scheme -> Text,
        version -> Int4,
        effective_from -> Date,
        document -> Jsonb,
        published_at -> Timestamptz,
        published_by -> Text,
    }
}

diesel::table! {
    scheme_issuers (scheme, issuer) {
        scheme -> Text,
        issuer -> Text,
    }
}

diesel::table! {
    scheme_tiers (scheme, code) {
        scheme -> Text,
        code -> Text,
        name -> Text,
        name_en -> Text,
        rank -> Int4,
        validity_years -> Int4,
    }
}

diesel::table! {
    schemes (code) {
        code -> Text,
        name -> Text,
        name_en -> Text,
        review_days -> Int4,
        created_at -> Timestamptz,
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

diesel::table! {
    sessions (id) {
        id -> Uuid,
        account_id -> Uuid,
        created_at -> Timestamptz,
        last_used_at -> Timestamptz,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::joinable!(accounts -> issuers (issuer));
diesel::joinable!(agencies -> districts (district));
diesel::joinable!(agency_clients -> agencies (agency_id));
diesel::joinable!(districts -> regions (region));
diesel::joinable!(issuers -> districts (district));
diesel::joinable!(profiles -> accounts (account_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(rule_sets -> schemes (scheme));
diesel::joinable!(scheme_issuers -> issuers (issuer));
diesel::joinable!(scheme_issuers -> schemes (scheme));
diesel::joinable!(scheme_tiers -> schemes (scheme));
diesel::joinable!(sessions -> accounts (account_id));

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    agencies,
    agency_clients,
    audit_chain_head,
    audit_log,
    districts,
    issuers,
    login_throttles,
    profiles,
    refresh_tokens,
    regions,
    rule_sets,
    scheme_issuers,
    scheme_tiers,
    schemes,
    service_categories,
    sessions,
);
