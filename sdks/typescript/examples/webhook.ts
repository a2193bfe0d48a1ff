import { createServer } from 'node:http';
import { verifyWebhook, WebhookVerificationError } from 'tenx-attribution';

const secret = process.env.TENX_WEBHOOK_SECRET!; // whsec_…, from creating the subscription

createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    const event = await verifyWebhook(Buffer.concat(chunks), req.headers, secret); // the raw body
    console.log(event.type, event.id);
    res.writeHead(204).end();
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) throw error;
    res.writeHead(400).end(error.message);
  }
}).listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
