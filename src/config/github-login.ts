/**
 * GitHub logins: 1–39 alphanumerics or single hyphens, not at either end. Enterprise Managed Users add an underscore
 * and their enterprise's short code (3–8 alphanumerics) to the normalized identity-provider name, e.g.
 * `mona-cat_octo`, and the setup user is `SHORTCODE_admin`; the whole login stays within 39 characters.
 * https://docs.github.com/en/enterprise-cloud@latest/admin/managing-iam/iam-configuration-reference/username-considerations-for-external-authentication
 * Organizations have no underscore; a managed user may own repositories, so an owner may have one.
 */
export const OWNER_PATTERN =
  /^(?=[A-Za-z0-9_-]{1,39}$)[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9]))*(?:_[A-Za-z0-9]{3,8})?$/;

/** What a valid owner is, for messages: "Owner must be " + OWNER_RULE. */
export const OWNER_RULE =
  "a GitHub user or organization name: 1–39 letters, digits or single hyphens, not starting or ending with a hyphen (an Enterprise Managed User's login ends with _ and the enterprise's short code, e.g. alice_acme)";
