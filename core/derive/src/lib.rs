//! `#[derive(Thrift)]`: implements `faultline_core::protocol::{Encode, ThriftType}` for
//! structs (as Thrift structs) and fieldless enums (as Thrift `i32` enums).
//!
//! # Structs
//!
//! ```ignore
//! #[derive(Thrift)]
//! struct EchoRequest {
//!     #[thrift(id = 1)]
//!     message: String,                 // default requiredness
//!     #[thrift(id = 2, required)]
//!     seq: i64,                        // required: absent on decode = MissingField
//!     #[thrift(id = 3)]
//!     note: Option<String>,            // optional: written only when Some
//!     #[thrift(id = 4, default = "7")]
//!     retries: i32,                    // default requiredness with an explicit default
//! }
//! ```
//!
//! * Every field needs `#[thrift(id = N)]`, `N` an `i16` (0 is allowed: results use it).
//!   Ids must be distinct.
//! * A field whose type is written `Option<T>` is optional: encoded only when `Some`.
//! * `required`: always encoded; decoding fails with `ErrorKind::MissingField` when absent.
//! * Otherwise the field has Thrift's default requiredness: always encoded; when absent on
//!   decode it becomes `Default::default()`, or `default = "expr"` (also `default = expr`).
//! * Decoding skips fields with an unknown id, and also fields with a known id whose wire
//!   type differs from the declared one (as Apache Thrift's generated code does). If the
//!   last value of such a field was skipped, the field counts as absent. When an id occurs
//!   twice on the wire, the last value wins.
//! * `#[thrift(crate = "path")]` on the struct or enum changes the path of faultline-core
//!   used by the generated code (default `::faultline_core`).
//!
//! # Enums
//!
//! Fieldless enums whose variants all have explicit discriminants (`Red = 1`) are encoded
//! as `i32`; a wire value that names no variant is `ErrorKind::UnknownEnumValue`.

#![forbid(unsafe_code)]

use std::collections::HashMap;

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{
    parse_macro_input, Attribute, Data, DataEnum, DeriveInput, Expr, ExprLit, ExprUnary, Fields,
    GenericArgument, Generics, Ident, Lit, LitStr, Path, PathArguments, Type, UnOp,
};

#[proc_macro_derive(Thrift, attributes(thrift))]
pub fn derive_thrift(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let krate = container_crate_path(&input.attrs)?;
    match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => {
                let fields = parse_fields(named.named.iter())?;
                Ok(expand_struct(input, &krate, &fields))
            }
            Fields::Unit => Ok(expand_struct(input, &krate, &[])),
            Fields::Unnamed(_) => Err(syn::Error::new_spanned(
                &input.ident,
                "#[derive(Thrift)] needs a struct with named fields (or a unit struct)",
            )),
        },
        Data::Enum(data) => expand_enum(input, &krate, data),
        Data::Union(_) => Err(syn::Error::new_spanned(
            &input.ident,
            "#[derive(Thrift)] does not support unions",
        )),
    }
}

/// `#[thrift(crate = "...")]` on the type, else `::faultline_core`.
fn container_crate_path(attrs: &[Attribute]) -> syn::Result<Path> {
    let mut path: Option<Path> = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("thrift")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                let lit: LitStr = meta.value()?.parse()?;
                path = Some(lit.parse()?);
                Ok(())
            } else {
                Err(meta
                    .error("unknown #[thrift] attribute on a type: expected `crate = \"path\"`"))
            }
        })?;
    }
    Ok(path.unwrap_or_else(|| syn::parse_quote!(::faultline_core)))
}

/// How a field behaves when encoding and when absent on decode.
enum Requiredness {
    /// `Option<T>`: written when `Some`, `None` when absent.
    Optional,
    /// Written always; absent = `MissingField`.
    Required,
    /// Written always; absent = `Default::default()` or the given expression.
    Default(Option<Expr>),
}

struct FieldSpec<'a> {
    ident: &'a Ident,
    /// Name as the user wrote it, without `r#`.
    name: String,
    id: i16,
    /// The Thrift-typed value: `T` for `Option<T>`, else the field's type.
    value_ty: &'a Type,
    req: Requiredness,
}

fn parse_fields<'a>(
    fields: impl Iterator<Item = &'a syn::Field>,
) -> syn::Result<Vec<FieldSpec<'a>>> {
    let mut out = Vec::new();
    let mut errors: Option<syn::Error> = None;
    let mut seen: HashMap<i16, String> = HashMap::new();
    let mut push_err = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    for field in fields {
        match parse_field(field) {
            Ok((spec, id_span)) => {
                if let Some(prev) = seen.get(&spec.id) {
                    push_err(syn::Error::new(
                        id_span,
                        format!(
                            "duplicate thrift field id {} (already used by `{}`)",
                            spec.id, prev
                        ),
                    ));
                } else {
                    seen.insert(spec.id, spec.name.clone());
                }
                out.push(spec);
            }
            Err(e) => push_err(e),
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

fn parse_field(field: &syn::Field) -> syn::Result<(FieldSpec<'_>, Span)> {
    let ident = field
        .ident
        .as_ref()
        .ok_or_else(|| syn::Error::new_spanned(field, "expected a named field"))?;
    let name = ident.unraw().to_string();
    let mut id: Option<(i16, Span)> = None;
    let mut required: Option<Span> = None;
    let mut default: Option<(Expr, Span)> = None;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("thrift")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("id") {
                let expr: Expr = meta.value()?.parse()?;
                let value = field_id(&expr)?;
                if id.is_some() {
                    return Err(meta.error("`id` given twice"));
                }
                id = Some((value, expr.span()));
                Ok(())
            } else if meta.path.is_ident("required") {
                required = Some(meta.path.span());
                Ok(())
            } else if meta.path.is_ident("default") {
                let value = meta.value()?;
                let expr: Expr = if value.peek(LitStr) {
                    let lit: LitStr = value.parse()?;
                    lit.parse()?
                } else {
                    value.parse()?
                };
                let span = meta.path.span();
                default = Some((expr, span));
                Ok(())
            } else {
                Err(meta.error(
                    "unknown #[thrift] field attribute: expected `id = N`, `required` or `default = \"expr\"`",
                ))
            }
        })?;
    }
    let Some((id, id_span)) = id else {
        return Err(syn::Error::new_spanned(
            ident,
            format!("field `{name}` needs a Thrift field id: #[thrift(id = N)]"),
        ));
    };
    let option_inner = option_inner(&field.ty);
    let req =
        match (option_inner.is_some(), required, default) {
            (true, Some(span), _) => {
                return Err(syn::Error::new(
                    span,
                    "an `Option<T>` field is optional; a `required` field must not be an Option",
                ))
            }
            (true, None, Some((_, span))) => return Err(syn::Error::new(
                span,
                "an `Option<T>` field is optional and absent means None; `default` does not apply",
            )),
            (false, Some(span), Some(_)) => {
                return Err(syn::Error::new(
                    span,
                    "a field cannot be both `required` and have a `default`",
                ))
            }
            (true, None, None) => Requiredness::Optional,
            (false, Some(_), None) => Requiredness::Required,
            (false, None, default) => Requiredness::Default(default.map(|(e, _)| e)),
        };
    Ok((
        FieldSpec {
            ident,
            name,
            id,
            value_ty: option_inner.unwrap_or(&field.ty),
            req,
        },
        id_span,
    ))
}

/// A field id: an integer literal (optionally negated) that fits `i16`.
fn field_id(expr: &Expr) -> syn::Result<i16> {
    let (negative, lit) = match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) => (false, lit),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => match &**expr {
            Expr::Lit(ExprLit {
                lit: Lit::Int(lit), ..
            }) => (true, lit),
            _ => return Err(syn::Error::new_spanned(expr, "field id must be an integer")),
        },
        _ => return Err(syn::Error::new_spanned(expr, "field id must be an integer")),
    };
    let value: i32 = lit
        .base10_parse()
        .map_err(|_| syn::Error::new_spanned(lit, "field id must fit in i16"))?;
    let value = if negative { -value } else { value };
    i16::try_from(value).map_err(|_| syn::Error::new_spanned(expr, "field id must fit in i16"))
}

/// `T` when `ty` is spelled `Option<T>` (or `std::option::Option<T>`, `core::option::Option<T>`).
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(tp) = ty else { return None };
    if tp.qself.is_some() {
        return None;
    }
    let segs = &tp.path.segments;
    let last = segs.last()?;
    if last.ident != "Option" {
        return None;
    }
    let prefix_ok = match segs.len() {
        1 => true,
        3 => (segs[0].ident == "std" || segs[0].ident == "core") && segs[1].ident == "option",
        _ => false,
    };
    if !prefix_ok {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    if args.args.len() != 1 {
        return None;
    }
    match args.args.first() {
        Some(GenericArgument::Type(inner)) => Some(inner),
        _ => None,
    }
}

/// The type's generics with `ThriftType` added to every type parameter.
fn bounded_generics(generics: &Generics, krate: &Path) -> Generics {
    let mut generics = generics.clone();
    for param in generics.type_params_mut() {
        param
            .bounds
            .push(syn::parse_quote!(#krate::protocol::ThriftType));
    }
    generics
}

fn expand_struct(input: &DeriveInput, krate: &Path, fields: &[FieldSpec<'_>]) -> TokenStream2 {
    let ty = &input.ident;
    let generics = bounded_generics(&input.generics, krate);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let p = quote!(#krate::protocol);

    let encode_fields = fields.iter().map(|f| {
        let ident = f.ident;
        let id = f.id;
        let vty = f.value_ty;
        let write = |value: TokenStream2| {
            quote! {
                __w.write_field_begin(#p::FieldHeader {
                    ttype: <#vty as #p::ThriftType>::TTYPE,
                    id: #id,
                })?;
                #p::Encode::encode(#value, __w)?;
                __w.write_field_end()?;
            }
        };
        match f.req {
            Requiredness::Optional => {
                let body = write(quote!(__v));
                quote! {
                    if let ::core::option::Option::Some(__v) = &self.#ident {
                        #body
                    }
                }
            }
            _ => write(quote!(&self.#ident)),
        }
    });

    let locals: Vec<Ident> = (0..fields.len())
        .map(|i| format_ident!("__f{}", i))
        .collect();
    let declare = fields.iter().zip(&locals).map(|(f, local)| {
        let vty = f.value_ty;
        quote! {
            let mut #local: ::core::option::Option<#vty> = ::core::option::Option::None;
        }
    });
    let arms = fields.iter().zip(&locals).map(|(f, local)| {
        let id = f.id;
        let vty = f.value_ty;
        quote! {
            #id if __h.ttype == <#vty as #p::ThriftType>::TTYPE => {
                #local = ::core::option::Option::Some(
                    <#vty as #p::ThriftType>::decode(__r)?
                );
            }
        }
    });
    let dispatch = if fields.is_empty() {
        quote!(#p::skip(__r, __h.ttype)?;)
    } else {
        quote! {
            match __h.id {
                #(#arms)*
                _ => #p::skip(__r, __h.ttype)?,
            }
        }
    };
    let finish = fields.iter().zip(&locals).map(|(f, local)| {
        let ident = f.ident;
        match &f.req {
            Requiredness::Optional => quote!(#ident: #local,),
            Requiredness::Required => {
                let id = f.id;
                let name = &f.name;
                let expected = format!("required field `{name}` (id {id}) of {ty}");
                quote! {
                    #ident: #local.ok_or_else(|| __r.error(
                        #p::ErrorKind::MissingField { id: #id, name: #name },
                        #expected,
                    ))?,
                }
            }
            Requiredness::Default(None) => {
                // Spanned at the field's type, so a missing `Default` impl points there.
                let vty = f.value_ty;
                let default = quote_spanned! {vty.span()=>
                    <#vty as ::core::default::Default>::default()
                };
                quote! {
                    #ident: match #local {
                        ::core::option::Option::Some(__v) => __v,
                        ::core::option::Option::None => #default,
                    },
                }
            }
            Requiredness::Default(Some(expr)) => quote! {
                #ident: match #local {
                    ::core::option::Option::Some(__v) => __v,
                    ::core::option::Option::None => #expr,
                },
            },
        }
    });
    let construct = if matches!(
        &input.data,
        Data::Struct(syn::DataStruct {
            fields: Fields::Unit,
            ..
        })
    ) {
        quote!(#ty)
    } else {
        quote!(#ty { #(#finish)* })
    };

    quote! {
        #[automatically_derived]
        impl #impl_generics #p::Encode for #ty #ty_generics #where_clause {
            fn encode<__W: #p::ProtocolWriter>(&self, __w: &mut __W) -> #p::EncodeResult {
                __w.write_struct_begin()?;
                #(#encode_fields)*
                __w.write_field_stop()?;
                __w.write_struct_end()
            }
        }

        #[automatically_derived]
        impl #impl_generics #p::ThriftType for #ty #ty_generics #where_clause {
            const TTYPE: #p::TType = #p::TType::Struct;

            fn decode<'__de, __R: #p::ProtocolReader<'__de>>(
                __r: &mut __R,
            ) -> #p::DecodeResult<Self> {
                #(#declare)*
                __r.read_struct_begin()?;
                loop {
                    let __h = __r.read_field_begin()?;
                    if __h.ttype == #p::TType::Stop {
                        break;
                    }
                    #dispatch
                    __r.read_field_end()?;
                }
                __r.read_struct_end()?;
                ::core::result::Result::Ok(#construct)
            }
        }
    }
}

fn expand_enum(input: &DeriveInput, krate: &Path, data: &DataEnum) -> syn::Result<TokenStream2> {
    let ty = &input.ident;
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "#[derive(Thrift)] enums cannot be generic",
        ));
    }
    let p = quote!(#krate::protocol);
    let mut errors: Option<syn::Error> = None;
    let mut variants = Vec::new();
    for variant in &data.variants {
        let err = if !matches!(variant.fields, Fields::Unit) {
            Some(syn::Error::new_spanned(
                variant,
                "#[derive(Thrift)] enums must be fieldless: Thrift enums are i32 values",
            ))
        } else if let Some((_, expr)) = &variant.discriminant {
            variants.push((&variant.ident, expr));
            None
        } else {
            Some(syn::Error::new_spanned(
                variant,
                format!(
                    "variant `{}` needs an explicit discriminant (`{} = N`): it is its Thrift value",
                    variant.ident, variant.ident
                ),
            ))
        };
        if let Some(e) = err {
            match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            }
        }
    }
    if let Some(e) = errors {
        return Err(e);
    }
    let consts: Vec<Ident> = (0..variants.len())
        .map(|i| format_ident!("__V{}", i))
        .collect();
    let const_defs = variants
        .iter()
        .zip(&consts)
        .map(|((_, expr), c)| quote!(const #c: i32 = #expr;));
    let const_defs2 = const_defs.clone();
    let encode_arms = variants
        .iter()
        .zip(&consts)
        .map(|((ident, _), c)| quote!(#ty::#ident => #c,));
    let decode_arms = variants
        .iter()
        .zip(&consts)
        .map(|((ident, _), c)| quote!(#c => ::core::result::Result::Ok(#ty::#ident),));
    let expected = format!("a value of enum {ty}");
    let encode_body = if variants.is_empty() {
        quote!(match *self {})
    } else {
        quote! {
            #(#const_defs)*
            __w.write_i32(match self { #(#encode_arms)* })
        }
    };
    Ok(quote! {
        #[automatically_derived]
        impl #p::Encode for #ty {
            fn encode<__W: #p::ProtocolWriter>(&self, __w: &mut __W) -> #p::EncodeResult {
                #encode_body
            }
        }

        #[automatically_derived]
        impl #p::ThriftType for #ty {
            const TTYPE: #p::TType = #p::TType::I32;

            fn decode<'__de, __R: #p::ProtocolReader<'__de>>(
                __r: &mut __R,
            ) -> #p::DecodeResult<Self> {
                #(#const_defs2)*
                let __start = __r.offset();
                let __v = __r.read_i32()?;
                match __v {
                    #(#decode_arms)*
                    _ => ::core::result::Result::Err(#p::DecodeError::new(
                        #p::ErrorKind::UnknownEnumValue(__v),
                        __start,
                        #expected,
                    )),
                }
            }
        }
    })
}
