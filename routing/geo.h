/*
 * geo.h - great-circle distances, inside the routing library only.
 *
 * A reference point keeps its cosine worked out once: a router measures
 * every node from the same point, and the trigonometry dominates. Every
 * distance in routing/ goes through this code, so all agree to the metre.
 */
#ifndef OMO_ROUTING_GEO_H
#define OMO_ROUTING_GEO_H

#include <stdint.h>

typedef struct rt_point {
	double lat; /* radians */
	double lon; /* radians */
	double cos_lat;
} rt_point;

/* rt_point_at returns the point at (lat, lon) in micro-degrees. */
rt_point rt_point_at(int64_t lat_udeg, int64_t lon_udeg);

/* rt_distance_from returns the distance in metres from `from` to (lat, lon). */
int64_t rt_distance_from(const rt_point *from, int64_t lat_udeg, int64_t lon_udeg);

#endif
