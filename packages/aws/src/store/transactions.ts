/**
 * DynamoDB transactions for the stores: the `StoreWrite`s of `@paysync/core/ports` are
 * TransactWriteItems entries underneath, and only this module turns one into the other.
 *
 * @example
 * const write = toStoreWrite({ Put: { TableName, Item, ConditionExpression: "attribute_not_exists(pk)" } });
 * await transactWrite([fromStoreWrite(write)]);
 */
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { TransactWriteCommand, type TransactWriteCommandInput } from "@aws-sdk/lib-dynamodb";
import type { StoreWrite } from "@paysync/core/ports";
import { documentClient } from "../base/clients.js";

export type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

/** DynamoDB's cap on the items of one transaction. */
export const MAX_TRANSACTION_ITEMS = 100;

export const toStoreWrite = (item: TransactItem): StoreWrite => item as unknown as StoreWrite;
export const fromStoreWrite = (write: StoreWrite): TransactItem => write as unknown as TransactItem;

export async function transactWrite(items: TransactItem[]): Promise<void> {
  await documentClient().send(new TransactWriteCommand({ TransactItems: items }));
}

/** The cancellation code of each item of a cancelled transaction; `undefined` for any other error. */
export function cancellationCodes(error: unknown): (string | undefined)[] | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  return error.CancellationReasons?.map((reason) => reason.Code) ?? [];
}
