// The passwords docs/examples/layout.yaml reads from the environment (password_env), for tests that apply it.
export const EXAMPLE_ENV = {
  MERIDIAN_DESK_ADMIN_PASSWORD: 'desk admin password 1',
  MERIDIAN_DESK_CURATOR_PASSWORD: 'desk curator password 1',
  MERIDIAN_ACME_FEED_PASSWORD: 'acme feed password 1',
  MERIDIAN_FR_OFFICER_PASSWORD: 'fr officer password 1',
  MERIDIAN_FR_RED_DESK_PASSWORD: 'fr red desk password 1',
  MERIDIAN_DE_OFFICER_PASSWORD: 'de officer password 1',
};
