//! `#[derive(Thrift)]` for faultline-core typed messages.
use proc_macro::TokenStream;

#[proc_macro_derive(Thrift, attributes(thrift))]
pub fn derive_thrift(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
