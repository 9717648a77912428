/**
 * The stack's alert topic for tests: a real SNS topic in moto, subscribed by an HTTP endpoint on loopback that
 * records every notification. moto delivers to an `http` subscription synchronously, within the Publish call, so
 * an alert the function sent is recorded by the time the function answers.
 */
import { createServer, type Server } from "node:http";
import type { Socket } from "node:net";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { awsClientConfig } from "./aws-fixtures.ts";
import { listenOnLoopback } from "./loopback.ts";

/** One notification as SNS delivers it to an HTTP endpoint (the fields tests read). */
export interface ReceivedAlert {
  readonly subject: string | undefined;
  readonly message: string;
}

export interface AlertTopic {
  readonly topicArn: string;
  /** Every notification published to the topic so far, oldest first. */
  readonly received: readonly ReceivedAlert[];
  close(): Promise<void>;
}

/** Creates a topic named `name` in moto and subscribes a recorder to it. */
export async function createAlertTopic(endpoint: string, name: string): Promise<AlertTopic> {
  const received: ReceivedAlert[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
          Subject?: string;
          Message?: string;
        };
        received.push({ subject: body.Subject, message: body.Message ?? "" });
      } catch {
        received.push({ subject: undefined, message: "(not a JSON notification)" });
      }
      res.writeHead(200).end();
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  const url = await listenOnLoopback(server);
  const sns = new SNSClient(awsClientConfig(endpoint));
  try {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: name }));
    if (!TopicArn) throw new Error("alert-topic: moto returned no topic ARN");
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: "http", Endpoint: `${url}/alerts` }));
    return {
      topicArn: TopicArn,
      received,
      close: () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        }),
    };
  } catch (error) {
    server.close();
    throw error;
  } finally {
    sns.destroy();
  }
}
