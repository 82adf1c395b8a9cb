/** The tracking server's wire types: the server answers with them, its client reads them. */
export const PARCEL_STATUSES = ['registered', 'in_transit', 'delivered', 'returned'] as const;
export type ParcelStatus = (typeof PARCEL_STATUSES)[number];

/** The parcel as the API returns it and as event payloads carry it. */
export interface Parcel {
  id: string;
  contents: string;
  status: ParcelStatus;
  version: number;
  createdAt: string;
  updatedAt: string;
}
