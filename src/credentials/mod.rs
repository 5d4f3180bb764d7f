//! Cards as verifiable credentials: issuer signing keys, the SD-JWT VC style token, the status
//! lists verifiers check offline, the public trust list, and the single-use secrets of holder
//! binding (presentation codes, verification nonces).

pub mod card_face;
pub mod holder_key;
pub mod jws;
pub mod key_binding;
pub mod keys;
pub mod offline;
pub mod platform_key;
pub mod presentation_code;
pub mod qr;
pub mod signed;
pub mod status_list;
pub mod status_token;
pub mod token;
