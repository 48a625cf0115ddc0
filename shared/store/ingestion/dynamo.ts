import { randomUUID } from 'node:crypto';
import type { VisitorState } from '../../ingestion/ports';
import { definedOnly } from '../../optional';
import type { CounterSpec } from '../../scoring/velocity';
import {
  ConditionalCheckFailedException,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactionCanceledException,
  TransactWriteCommand,
  UpdateCommand,
} from '../aws/dynamodb';
import { isExpired, ttlAt } from '../table';
import { DynamoVelocityStore, type ItemAttributes } from '../velocity/dynamo';
import {
  type ClaimResult,
  type ClickRound,
  type ClickRoundResult,
  type ConversionRecord,
  type IngestionStore,
  RETENTION_SECONDS,
  type VisitorTouch,
} from './store';

/** `VEL#<propertyId>#vis#<visitorId>` (property ids carry no `#`). */
const VISITOR_ITEM = /^VEL#([^#]+)#vis#(.+)$/;
const visitorKey = (propertyId: string, visitorId: string) => ({ pk: `VIS#${propertyId}#${visitorId}`, sk: 'VIS' });
const tokenKey = (tokenId: string) => ({ pk: `TOKEN#${tokenId}`, sk: 'TOKEN' });
const orderKey = (propertyId: string, orderId: string) => ({ pk: `ORDER#${propertyId}#${orderId}`, sk: 'ORDER' });
const conversionKey = (clickId: string) => ({ pk: `CONV#${clickId}`, sk: 'CONV' });
const claimKey = (key: string) => ({ pk: `IDEM#${key}`, sk: 'IDEM' });
const textOf = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export class DynamoIngestionStore implements IngestionStore {
  private readonly velocity: DynamoVelocityStore;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    now: () => number = Date.now,
    /** The velocity counters' table (shared/store/table.ts COUNTERS_TABLE); default `tableName`. */
    countersTableName?: string,
  ) {
    this.velocity = new DynamoVelocityStore({ client, tableName, countersTableName, now });
  }

  async countClick(round: ClickRound): Promise<ClickRoundResult> {
    const alongside = new Map<string, ItemAttributes>();
    const visitor = this.visitAttributes(round);
    // Kept for the retention, and at least until the token itself expires (replays are still seen).
    const token =
      round.token === undefined
        ? undefined
        : this.firstClickAttributes(
            tokenKey(round.token.tokenId),
            round,
            Math.max(round.retainUntil, Math.ceil(round.token.expiresAt / 1000)),
          );
    for (const spec of round.counters) {
      if (spec.counter === 'visitor_1h' || spec.counter === 'visitor_ips_1d') alongside.set(spec.item, visitor);
      else if (spec.counter === 'token_uses' && token) alongside.set(spec.item, token);
    }
    const written = new Set(alongside.values());
    // Records whose key counts no velocity window this time (a visitor id the server assigned) are written in
    // the same round, on their own.
    const [counted, visit] = await Promise.all([
      this.velocity.incrementWith(round.counters, alongside),
      round.countVisit && !written.has(visitor) ? this.update(visitor) : undefined,
      token && !written.has(token) ? this.update(token, { uses: 1 }) : undefined,
    ]);
    const item = written.has(visitor) ? [...counted.items.values()].find((i) => i.pk === visitor.key.pk) : visit;
    const worstScore = item?.worstScore;
    return definedOnly({
      counters: counted.values,
      worstScore: typeof worstScore === 'number' ? worstScore : undefined,
    });
  }

  /** The visitor item's key, and the visit's state when this round counts it (`countVisit`). */
  private visitAttributes(round: ClickRound): ItemAttributes {
    const key = visitorKey(round.propertyId, round.visitorId);
    if (!round.countVisit) return { key, keepUntil: round.retainUntil };
    return {
      key,
      setIfAbsent: { propertyId: round.propertyId, firstSeen: round.at },
      set: { lastSeen: round.at, lastIp: round.ip, lastClickId: round.clickId },
      add: { clicks: 1 },
      keepUntil: round.retainUntil,
    };
  }

  /** The first click stays (if_not_exists); every click counts `uses` (the velocity counter). */
  private firstClickAttributes(key: { pk: string; sk: string }, round: ClickRound, keepUntil: number): ItemAttributes {
    return {
      key,
      setIfAbsent: { propertyId: round.propertyId, clickId: round.clickId, at: round.at },
      keepUntil,
    };
  }

  /** One record's attributes on their own (`add` beside its own), returning the item as written. */
  private async update(record: ItemAttributes, add: Record<string, number> = {}): Promise<Record<string, unknown>> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':exp': record.keepUntil };
    const sets = ['expiresAt = :exp'];
    const adds: string[] = [];
    const each = (
      prefix: string,
      entries: Readonly<Record<string, unknown>> | undefined,
      clause: (n: string, v: string) => string,
    ) =>
      Object.entries(entries ?? {}).forEach(([name, value], i) => {
        names[`#${prefix}${i}`] = name;
        values[`:${prefix}${i}`] = value;
        (prefix === 'n' || prefix === 'm' ? adds : sets).push(clause(`#${prefix}${i}`, `:${prefix}${i}`));
      });
    each('x', record.setIfAbsent, (n, v) => `${n} = if_not_exists(${n}, ${v})`);
    each('s', record.set, (n, v) => `${n} = ${v}`);
    each('n', record.add, (n, v) => `${n} ${v}`);
    each('m', add, (n, v) => `${n} ${v}`);
    const { Attributes } = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: record.key,
        UpdateExpression: `SET ${sets.join(', ')}${adds.length > 0 ? ` ADD ${adds.join(', ')}` : ''}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return Attributes ?? {};
  }

  /** The visitor's actor counter lives in its `VIS#` item, as the click round wrote it. */
  countActorConversion(actors: readonly CounterSpec[]): Promise<void> {
    const keys = new Map<string, { pk: string; sk: string }>();
    for (const spec of actors) {
      const visitor = spec.counter === 'visitor_clicks' ? VISITOR_ITEM.exec(spec.item) : null;
      if (visitor !== null) keys.set(spec.item, visitorKey(visitor[1] as string, visitor[2] as string));
    }
    return this.velocity.addConversion(actors, keys);
  }

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
    if (touch.clickId !== undefined) {
      sets.push('lastClickId = :clk');
      values[':clk'] = touch.clickId;
      adds.push('clicks :one');
    }
    if (touch.pageView) adds.push('pageViews :one');
    if (touch.beacon) adds.push('beacons :one');
    if (touch.conversion) adds.push('conversions :one');
    // DynamoDB refuses a value no expression uses: a conversion event touches no counter (it was a 500).
    if (adds.length > 0) values[':one'] = 1;
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: visitorKey(touch.propertyId, touch.visitorId),
        UpdateExpression: `SET ${sets.join(', ')}${adds.length > 0 ? ` ADD ${adds.join(', ')}` : ''}`,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async relinkLastClick(visitorId: string, propertyId: string, from: string, to: string): Promise<void> {
    await this.client
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: visitorKey(propertyId, visitorId),
          UpdateExpression: 'SET lastClickId = :to',
          ConditionExpression: 'lastClickId = :from',
          ExpressionAttributeValues: { ':from': from, ':to': to },
        }),
      )
      .catch((error) => {
        // A later click of the visitor moved it on already.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      });
  }

  async raiseWorst(visitorId: string, propertyId: string, click: { clickId: string; score: number }): Promise<void> {
    await this.setWorst(visitorId, propertyId, click, false);
  }

  async rescoreVisitor(visitorId: string, propertyId: string, click: { clickId: string; score: number }) {
    await this.setWorst(visitorId, propertyId, click, true);
  }

  /**
   * The visitor's worst click: set when this click scores higher; on a re-score also when it is the worst
   * one (its score may have fallen). Only on an existing visitor: the click round created it.
   */
  private async setWorst(
    visitorId: string,
    propertyId: string,
    click: { clickId: string; score: number },
    mayLower: boolean,
  ): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: visitorKey(propertyId, visitorId),
          UpdateExpression: 'SET worstScore = :s, worstClickId = :c',
          ConditionExpression: mayLower
            ? 'attribute_exists(pk) AND (worstClickId = :c OR attribute_not_exists(worstScore) OR worstScore < :s)'
            : 'attribute_exists(pk) AND (attribute_not_exists(worstScore) OR worstScore < :s)',
          ExpressionAttributeValues: { ':s': click.score, ':c': click.clickId },
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
    return definedOnly({
      visitorId,
      propertyId: Item.propertyId,
      firstSeen: Number(Item.firstSeen),
      lastSeen: Number(Item.lastSeen ?? Item.firstSeen),
      clicks: Number(Item.clicks ?? 0),
      pageViews: Number(Item.pageViews ?? 0),
      conversions: Number(Item.conversions ?? 0),
      beacons: Number(Item.beacons ?? 0),
      lastIp: textOf(Item.lastIp),
      lastClickId: textOf(Item.lastClickId),
      worstClickId: textOf(Item.worstClickId),
      worstScore: typeof Item.worstScore === 'number' ? Item.worstScore : undefined,
    });
  }

  async findClickByToken(tokenId: string, now: number) {
    const item = await this.get(tokenKey(tokenId), now);
    if (typeof item?.clickId !== 'string' || typeof item.propertyId !== 'string') return undefined;
    return { propertyId: item.propertyId, clickId: item.clickId, uses: Number(item.uses ?? 1) };
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
