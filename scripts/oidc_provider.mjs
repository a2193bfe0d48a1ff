// A real OpenID Connect provider for the sign-in tests (issue 60): `oidc-provider` from npm
// (installed by scripts/oidc_provider.sh into .venv/oidc), on a free loopback port.
//
//   node scripts/oidc_provider.mjs
//
// It prints `port N` once listening (the issuer is http://127.0.0.1:N), then reads ONE line on
// standard input: the client's redirect URI (the server under test learns the issuer first, so
// its own port, hence its callback, is known only after). It then registers the client
// `tenx-test` (secret `tenx-test-secret`), prints `ready`, and serves until its standard input
// closes. Its sign-in page logs ONE fixed account in without a form (the test's HTTP client just
// follows redirects): subject `OIDC_ACCOUNT_SUB` (default `alice`), email `OIDC_ACCOUNT_EMAIL`
// (default alice@example.com), `email_verified` from `OIDC_EMAIL_VERIFIED` (default true).
// Consent is implied (the grant is made when asked for), as a company's own provider does.
import http from 'node:http';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import path from 'node:path';

const dir = process.env.TENX_OIDC_PROVIDER_DIR || path.join(import.meta.dirname, '..', '.venv', 'oidc');
const require = createRequire(path.join(dir, 'node_modules', 'x.js'));
const { default: Provider } = await import(require.resolve('oidc-provider'));

const sub = process.env.OIDC_ACCOUNT_SUB || 'alice';
const email = process.env.OIDC_ACCOUNT_EMAIL || 'alice@example.com';
const emailVerified = (process.env.OIDC_EMAIL_VERIFIED || 'true') === 'true';

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
console.log(`port ${port}`);

const input = readline.createInterface({ input: process.stdin });
const lines = input[Symbol.asyncIterator]();
const redirectUri = (await lines.next()).value.trim();

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'tenx-test',
    client_secret: 'tenx-test-secret',
    redirect_uris: [redirectUri],
    response_types: ['code'],
    grant_types: ['authorization_code'],
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  // The claims in the ID token itself (the client reads no userinfo).
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false } },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email, email_verified: emailVerified }),
  }),
  // Consent implied: the grant the client asks for.
  loadExistingGrant: async (ctx) => {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email');
    await grant.save();
    return grant;
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
});
// Plain http on loopback: the provider still sets its cookies (not `Secure`).
provider.proxy = false;

const callback = provider.callback();
server.on('request', async (req, res) => {
  if (req.method === 'GET' && req.url.startsWith('/interaction/')) {
    try {
      // The fixed account signs in at once.
      await provider.interactionFinished(req, res, { login: { accountId: sub } }, { mergeWithLastSubmission: false });
    } catch (e) {
      res.statusCode = 400;
      res.end(String(e));
    }
    return;
  }
  callback(req, res);
});
console.log('ready');
// Ends with the test (its standard input closes when the child handle drops).
for await (const _ of lines) { /* nothing more to read */ }
process.exit(0);
