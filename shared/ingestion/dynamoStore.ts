import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ReasonEntry } from '../model';
import { isExpired, ttlAt } from '../storage/table';
import type { VisitorState } from './ports';
import {
  type ClaimResult,
  type ConversionRecord,
  type IngestionStore,
  RETENTION_SECONDS,
  type VisitorTouch,
} from './store';

const visitorKey = (propertyId: string, visitorId: string) => ({ pk: `VIS#${propertyId}#${visitorId}`, sk: 'VIS' });
const gclidKey = (propertyId: string, gclid: string) => ({ pk: `GCLID#${propertyId}#${gclid}`, sk: 'GCLID' });
const tokenKey = (tokenId: string) => ({ pk: `TOKEN#${tokenId}`, sk: 'TOKEN' });
const orderKey = (propertyId: string, orderId: string) => ({ pk: `ORDER#${propertyId}#${orderId}`, sk: 'ORDER' });
const conversionKey = (clickId: string) => ({ pk: `CONV#${clickId}`, sk: 'CONV' });
const claimKey = (key: string) => ({ pk: `IDEM#${key}`, sk: 'IDEM' });

export class DynamoIngestionStore implements IngestionStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async touchVisitor(touch: VisitorTouch): Promise<void> {
    const sets = [
      'propertyId = if_not_exists(propertyId, :p)',
      'firstSeen = if_not_exists(firstSeen, :at)',
      'lastSeen = :at',
      'expiresAt = :exp',
    ];
    const values: Record<string, unknown> = {
      ':p': touch.propertyId,
      ':at': touch.at,
      ':exp': touch.expiresAt ?? ttlAt(touch.at, RETENTION_SECONDS),
    };
    const adds: string[] = [];
    if (touch.ip) {
      sets.push('lastIp = :ip');
      values[':ip'] = touch.ip;
    }
    if (touch.click) {
      sets.push('lastClickId = :clk');
      values[':clk'] = touch.click.clickId;
      adds.push('clicks :one');
    }
    if (touch.pageView) adds.push('pageViews :one');
    if (touch.beacon) adds.push('beacons :one');
    if (touch.conversion) adds.push('conversions :one');
    // DynamoDB refuses a value no expression uses: a conversion event touches no counter (it was a 500).
    if (adds.length > 0) values[':one'] = 1;
    const counters = this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: visitorKey(touch.propertyId, touch.visitorId),
        UpdateExpression: `SET ${sets.join(', ')}${adds.length > 0 ? ` ADD ${adds.join(', ')}` : ''}`,
        ExpressionAttributeValues: values,
      }),
    );
    const worst = touch.click
      ? this.raiseWorst(touch.visitorId, touch.propertyId, touch.click, touch.at, false)
      : Promise.resolve();
    await Promise.all([counters, worst]);
  }

  async rescoreVisitor(
    visitorId: string,
    propertyId: string,
    click: { clickId: string; score: number; reasons: readonly ReasonEntry[] },
  ): Promise<void> {
    await this.raiseWorst(visitorId, propertyId, click, undefined, true);
  }

  /** The visitor's worst click: raised when this click scores higher; on a re-score also rewritten when it is the worst one. */
  private async raiseWorst(
    visitorId: string,
    propertyId: string,
    click: { clickId: string; score: number; reasons: readonly ReasonEntry[] },
    at: number | undefined,
    mayLower: boolean,
  ): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: visitorKey(propertyId, visitorId),
          UpdateExpression:
            'SET propertyId = if_not_exists(propertyId, :p), worstScore = :s, worstReasons = :r, worstClickId = :c' +
            (at !== undefined ? ', expiresAt = if_not_exists(expiresAt, :exp)' : ''),
          ConditionExpression: mayLower
            ? 'attribute_exists(pk) AND (worstClickId = :c OR worstScore < :s)'
            : 'attribute_not_exists(worstScore) OR worstScore < :s',
          ExpressionAttributeValues: {
            ':p': propertyId,
            ':s': click.score,
            ':r': click.reasons,
            ':c': click.clickId,
            ...(at !== undefined ? { ':exp': ttlAt(at, RETENTION_SECONDS) } : {}),
          },
        }),
      );
    } catch (error) {
      // Not worse than the visitor's worst click (or not this property's visitor): nothing to change.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async getVisitor(propertyId: string, visitorId: string, now: number): Promise<VisitorState | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: visitorKey(propertyId, visitorId) }),
    );
    if (!Item || isExpired(Item, now) || typeof Item.propertyId !== 'string' || Item.firstSeen === undefined) {
      return undefined;
    }
    return {
      visitorId,
      propertyId: Item.propertyId,
      firstSeen: Number(Item.firstSeen),
      lastSeen: Number(Item.lastSeen ?? Item.firstSeen),
      clicks: Number(Item.clicks ?? 0),
      pageViews: Number(Item.pageViews ?? 0),
      conversions: Number(Item.conversions ?? 0),
      beacons: Number(Item.beacons ?? 0),
      ...(typeof Item.lastIp === 'string' ? { lastIp: Item.lastIp } : {}),
      ...(typeof Item.lastClickId === 'string' ? { lastClickId: Item.lastClickId } : {}),
      ...(typeof Item.worstClickId === 'string' ? { worstClickId: Item.worstClickId } : {}),
      ...(typeof Item.worstScore === 'number' ? { worstScore: Item.worstScore } : {}),
      ...(Array.isArray(Item.worstReasons) ? { worstReasons: Item.worstReasons as ReasonEntry[] } : {}),
    };
  }

  async indexGclid(propertyId: string, gclid: string, clickId: string, at: number, retainUntil?: number) {
    await this.firstClick(
      gclidKey(propertyId, gclid),
      propertyId,
      clickId,
      at,
      retainUntil ?? ttlAt(at, RETENTION_SECONDS),
    );
  }

  async findClickByGclid(propertyId: string, gclid: string, now: number): Promise<string | undefined> {
    const item = await this.get(gclidKey(propertyId, gclid), now);
    return typeof item?.clickId === 'string' ? item.clickId : undefined;
  }

  async indexToken(
    tokenId: string,
    propertyId: string,
    clickId: string,
    at: number,
    expiresAt: number,
    retainUntil?: number,
  ): Promise<void> {
    // Kept for the retention, and at least until the token itself expires (replays are still seen).
    const until = Math.max(retainUntil ?? ttlAt(at, RETENTION_SECONDS), Math.ceil(expiresAt / 1000));
    await this.firstClick(tokenKey(tokenId), propertyId, clickId, at, until);
  }

  async findClickByToken(tokenId: string, now: number) {
    const item = await this.get(tokenKey(tokenId), now);
    if (typeof item?.clickId !== 'string' || typeof item.propertyId !== 'string') return undefined;
    return { propertyId: item.propertyId, clickId: item.clickId, uses: Number(item.uses ?? 1) };
  }

  /** The first click stays (if_not_exists), every click counts: one unconditional write, never a conflict. */
  private async firstClick(
    key: { pk: string; sk: string },
    propertyId: string,
    clickId: string,
    at: number,
    expiresAt: number,
  ) {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression:
          'SET propertyId = if_not_exists(propertyId, :p), clickId = if_not_exists(clickId, :c), #at = if_not_exists(#at, :at), expiresAt = :exp ADD uses :one',
        ExpressionAttributeNames: { '#at': 'at' },
        ExpressionAttributeValues: { ':p': propertyId, ':c': clickId, ':at': at, ':exp': expiresAt, ':one': 1 },
      }),
    );
  }

  async recordConversion(conversion: ConversionRecord) {
    const expiresAt = ttlAt(conversion.at, RETENTION_SECONDS);
    const items = [{ Put: this.firstPut({ ...conversionKey(conversion.clickId), ...conversion, expiresAt }) }];
    if (conversion.orderId !== undefined) {
      items.push({
        Put: this.firstPut({
          ...orderKey(conversion.propertyId, conversion.orderId),
          clickId: conversion.clickId,
          at: conversion.at,
          expiresAt,
        }),
      });
    }
    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: items }));
      return { stored: true } as const;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      if (reasons[0]?.Code === 'ConditionalCheckFailed') return { stored: false, conflict: 'click' } as const;
      if (reasons[1]?.Code === 'ConditionalCheckFailed') return { stored: false, conflict: 'order' } as const;
      throw error;
    }
  }

  async forgetConversion(conversion: ConversionRecord): Promise<void> {
    const keys = [conversionKey(conversion.clickId)];
    if (conversion.orderId !== undefined) keys.push(orderKey(conversion.propertyId, conversion.orderId));
    await Promise.all(keys.map((Key) => this.client.send(new DeleteCommand({ TableName: this.tableName, Key }))));
  }

  async claim(key: string, now: number, leaseMs: number): Promise<ClaimResult> {
    const owner = randomUUID();
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...claimKey(key),
            state: 'pending',
            owner,
            leaseUntil: now + leaseMs,
            expiresAt: ttlAt(now, RETENTION_SECONDS),
          },
          ConditionExpression: 'attribute_not_exists(pk) OR (#state = :pending AND leaseUntil < :now)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':pending': 'pending', ':now': now },
        }),
      );
      return { kind: 'claimed', owner };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: claimKey(key), ConsistentRead: true }),
    );
    if (Item?.state === 'done') return { kind: 'done', result: (Item.result ?? {}) as Record<string, unknown> };
    return { kind: 'busy' };
  }

  async complete(key: string, owner: string, result: Record<string, unknown>, now: number): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: claimKey(key),
        UpdateExpression: 'SET #state = :done, #result = :result, completedAt = :now REMOVE leaseUntil',
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#state': 'state', '#result': 'result', '#owner': 'owner' },
        ExpressionAttributeValues: { ':done': 'done', ':result': result, ':now': now, ':owner': owner },
      }),
    );
  }

  async release(key: string, owner: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: claimKey(key),
          ConditionExpression: '#owner = :owner AND #state = :pending',
          ExpressionAttributeNames: { '#owner': 'owner', '#state': 'state' },
          ExpressionAttributeValues: { ':owner': owner, ':pending': 'pending' },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  private firstPut(item: Record<string, unknown>) {
    return { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' };
  }

  private async get(key: { pk: string; sk: string }, now: number) {
    // Strongly consistent: a conversion or verdict right after the click must find it.
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return Item && !isExpired(Item, now) ? Item : undefined;
  }
}
