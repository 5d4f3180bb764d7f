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
    address_rate_windows (key, window_start) {
        key -> Text,
        window_start -> Timestamptz,
        count -> Int4,
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
    agency_rate_windows (agency_id, window_start, shard) {
        agency_id -> Uuid,
        window_start -> Timestamptz,
        count -> Int4,
        shard -> Int2,
    }
}

diesel::table! {
    agency_unknown_windows (agency_id, window_start) {
        agency_id -> Uuid,
        window_start -> Timestamptz,
        count -> Int4,
    }
}

diesel::table! {
    application_documents (id) {
        id -> Uuid,
        application_id -> Uuid,
        filename -> Text,
        content_type -> Text,
        size -> Int4,
        sha256 -> Text,
        content -> Bytea,
        key_id -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    application_identity_documents (application_id) {
        application_id -> Uuid,
        id_type -> Text,
        id_number_ciphertext -> Bytea,
        id_number_key_id -> Text,
        id_number_index -> Text,
        id_number_masked -> Text,
        copied_at -> Timestamptz,
    }
}

diesel::table! {
    applications (id) {
        id -> Uuid,
        talent_id -> Uuid,
        scheme -> Text,
        issuer -> Text,
        status -> Text,
        facts -> Bytea,
        key_id -> Text,
        suggested_tier -> Nullable<Text>,
        eligible -> Nullable<Bool>,
        rules_version -> Nullable<Int4>,
        evaluation_trace -> Nullable<Bytea>,
        submitted_at -> Nullable<Timestamptz>,
        review_due -> Nullable<Date>,
        decision -> Nullable<Text>,
        decided_tier -> Nullable<Text>,
        reason_code -> Nullable<Text>,
        decision_comment -> Nullable<Text>,
        supplement_items -> Nullable<Jsonb>,
        decided_by -> Nullable<Uuid>,
        decided_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        replaces_card -> Nullable<Uuid>,
        kind -> Text,
        principal_card -> Nullable<Uuid>,
        employer_credit_code -> Nullable<Text>,
        employer_endorsement -> Nullable<Text>,
        endorsed_by -> Nullable<Uuid>,
        endorsed_at -> Nullable<Timestamptz>,
        endorsement_comment -> Nullable<Text>,
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
        key_id -> Nullable<Text>,
        mac -> Nullable<Text>,
    }
}

diesel::table! {
    card_credentials (card_id, kid) {
        card_id -> Uuid,
        kid -> Text,
        iat -> Timestamptz,
        exp -> Timestamptz,
        first_served_at -> Timestamptz,
    }
}

diesel::table! {
    card_serials (issuer, year) {
        issuer -> Text,
        year -> Int4,
        last -> Int8,
    }
}

diesel::table! {
    card_changes (id) {
        id -> Uuid,
        card_id -> Uuid,
        holder_id -> Uuid,
        issuer -> Text,
        kind -> Text,
        effective_on -> Date,
        reported_at -> Timestamptz,
        late -> Bool,
        facts -> Bytea,
        key_id -> Text,
        suggested_tier -> Nullable<Text>,
        eligible -> Bool,
        rules_version -> Int4,
        evaluation_trace -> Bytea,
        review_due -> Date,
        status -> Text,
        decision -> Nullable<Text>,
        decided_tier -> Nullable<Text>,
        reason_code -> Nullable<Text>,
        decision_comment -> Nullable<Text>,
        decided_by -> Nullable<Uuid>,
        decided_at -> Nullable<Timestamptz>,
        new_card_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    card_successions (old_card_id) {
        old_card_id -> Uuid,
        new_card_id -> Uuid,
        kind -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    cards (id) {
        id -> Uuid,
        number -> Text,
        application_id -> Nullable<Uuid>,
        holder_id -> Uuid,
        scheme -> Text,
        issuer -> Text,
        tier -> Text,
        status -> Text,
        valid_from -> Date,
        valid_until -> Date,
        issued_at -> Timestamptz,
        kid -> Nullable<Text>,
        status_index -> Nullable<Int4>,
        status_reason -> Nullable<Text>,
        status_changed_at -> Nullable<Timestamptz>,
        holder_jwk -> Nullable<Jsonb>,
        holder_jkt -> Nullable<Text>,
        holder_key_bound_at -> Nullable<Timestamptz>,
        kind -> Text,
        principal_card -> Nullable<Uuid>,
        relation -> Nullable<Text>,
        dependant_name -> Nullable<Text>,
        name_masked -> Text,
    }
}

diesel::table! {
    dependant_people (application_id) {
        application_id -> Uuid,
        scheme -> Text,
        relation -> Text,
        full_name -> Text,
        birth_date -> Date,
        id_type -> Text,
        id_number_ciphertext -> Bytea,
        id_number_key_id -> Text,
        id_number_index -> Text,
        id_number_masked -> Text,
    }
}

diesel::table! {
    dependant_policies (scheme, version) {
        scheme -> Text,
        version -> Int4,
        effective_from -> Date,
        document -> Jsonb,
        published_at -> Timestamptz,
        published_by -> Text,
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
    document_disputes (id) {
        id -> Uuid,
        id_number_index -> Text,
        holder_id -> Uuid,
        claimant_id -> Uuid,
        opened_at -> Timestamptz,
        resolved_at -> Nullable<Timestamptz>,
        resolved_by -> Nullable<Uuid>,
        assigned_to -> Nullable<Uuid>,
    }
}

diesel::table! {
    employer_accounts (account_id) {
        account_id -> Uuid,
        employer_id -> Uuid,
    }
}

diesel::table! {
    employers (id) {
        id -> Uuid,
        name -> Text,
        credit_code -> Text,
        district -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    holder_nonces (nonce_hash) {
        nonce_hash -> Text,
        account_id -> Uuid,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    idempotency_keys (principal, key) {
        principal -> Text,
        key -> Text,
        request_hash -> Text,
        status -> Int4,
        body -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    issuer_keys (kid) {
        kid -> Text,
        issuer -> Text,
        public_key -> Bytea,
        private_key_sealed -> Bytea,
        key_id -> Text,
        status -> Text,
        created_at -> Timestamptz,
        retired_at -> Nullable<Timestamptz>,
        compromised_at -> Nullable<Timestamptz>,
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
        last_success_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    policy_documents (kind, version) {
        kind -> Text,
        version -> Int4,
        effective_from -> Date,
        document -> Jsonb,
        published_at -> Timestamptz,
        published_by -> Text,
    }
}

diesel::table! {
    presentation_codes (code_hash) {
        code_hash -> Text,
        card_id -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        used_by_agency -> Nullable<Uuid>,
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
        disputed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    redemptions (id) {
        id -> Uuid,
        card_id -> Uuid,
        agency_id -> Uuid,
        district -> Text,
        service -> Text,
        period_key -> Text,
        redeemed_at -> Timestamptz,
        holder_id -> Uuid,
        scheme -> Text,
        presentation_id -> Nullable<Uuid>,
        reversed_at -> Nullable<Timestamptz>,
        reversal_reason -> Nullable<Text>,
        reversal_comment -> Nullable<Text>,
        reversed_by -> Nullable<Uuid>,
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

diesel::table! {
    status_lists (issuer, list_no) {
        issuer -> Text,
        bits -> Bytea,
        updated_at -> Timestamptz,
        list_no -> Int4,
        version -> Int8,
        stamped_version -> Int8,
        stamped_at -> Timestamptz,
        stamped_bits -> Nullable<Bytea>,
    }
}

diesel::table! {
    verification_nonces (nonce_hash) {
        nonce_hash -> Text,
        agency_id -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    verifications (id) {
        id -> Uuid,
        card_id -> Nullable<Uuid>,
        agency_id -> Uuid,
        district -> Text,
        method -> Text,
        valid -> Bool,
        status -> Text,
        local_tier -> Nullable<Text>,
        verified_at -> Timestamptz,
        holder_bound -> Bool,
    }
}

diesel::joinable!(accounts -> issuers (issuer));
diesel::joinable!(agencies -> districts (district));
diesel::joinable!(agency_clients -> agencies (agency_id));
diesel::joinable!(agency_rate_windows -> agencies (agency_id));
diesel::joinable!(agency_unknown_windows -> agencies (agency_id));
diesel::joinable!(application_documents -> applications (application_id));
diesel::joinable!(application_identity_documents -> applications (application_id));
diesel::joinable!(card_changes -> issuers (issuer));
diesel::joinable!(card_serials -> issuers (issuer));
diesel::joinable!(cards -> accounts (holder_id));
diesel::joinable!(card_credentials -> cards (card_id));
diesel::joinable!(card_credentials -> issuer_keys (kid));
diesel::joinable!(cards -> issuer_keys (kid));
diesel::joinable!(cards -> issuers (issuer));
diesel::joinable!(cards -> schemes (scheme));
diesel::joinable!(dependant_people -> applications (application_id));
diesel::joinable!(dependant_people -> schemes (scheme));
diesel::joinable!(dependant_policies -> schemes (scheme));
diesel::joinable!(districts -> regions (region));
diesel::joinable!(employer_accounts -> accounts (account_id));
diesel::joinable!(employer_accounts -> employers (employer_id));
diesel::joinable!(employers -> districts (district));
diesel::joinable!(holder_nonces -> accounts (account_id));
diesel::joinable!(issuer_keys -> issuers (issuer));
diesel::joinable!(issuers -> districts (district));
diesel::joinable!(presentation_codes -> agencies (used_by_agency));
diesel::joinable!(presentation_codes -> cards (card_id));
diesel::joinable!(profiles -> accounts (account_id));
diesel::joinable!(redemptions -> accounts (holder_id));
diesel::joinable!(redemptions -> agencies (agency_id));
diesel::joinable!(redemptions -> cards (card_id));
diesel::joinable!(redemptions -> schemes (scheme));
diesel::joinable!(redemptions -> verifications (presentation_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(rule_sets -> schemes (scheme));
diesel::joinable!(scheme_issuers -> issuers (issuer));
diesel::joinable!(scheme_issuers -> schemes (scheme));
diesel::joinable!(scheme_tiers -> schemes (scheme));
diesel::joinable!(sessions -> accounts (account_id));
diesel::joinable!(status_lists -> issuers (issuer));
diesel::joinable!(verification_nonces -> agencies (agency_id));
diesel::joinable!(verifications -> agencies (agency_id));
diesel::joinable!(verifications -> cards (card_id));

diesel::allow_tables_to_appear_in_same_query!(
    card_changes,
    card_successions,
    accounts,
    address_rate_windows,
    agencies,
    agency_clients,
    agency_rate_windows,
    agency_unknown_windows,
    application_documents,
    application_identity_documents,
    applications,
    audit_chain_head,
    audit_log,
    card_credentials,
    card_serials,
    cards,
    dependant_people,
    dependant_policies,
    districts,
    document_disputes,
    employer_accounts,
    employers,
    holder_nonces,
    idempotency_keys,
    issuer_keys,
    issuers,
    login_throttles,
    policy_documents,
    presentation_codes,
    profiles,
    redemptions,
    refresh_tokens,
    regions,
    rule_sets,
    scheme_issuers,
    scheme_tiers,
    schemes,
    service_categories,
    sessions,
    status_lists,
    verification_nonces,
    verifications,
);
