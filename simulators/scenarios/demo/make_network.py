#!/usr/bin/env python3
"""Writes the demo network (nodes.csv, skus.csv, stock.csv) from a fixed seed.

The files are committed; run this only to change the network on purpose.
2 manufacturers, 3 warehouses and 10 stores in US cities; 200 SKUs. SKUs
181-200 are bulky items made to stock at the manufacturers and drop-shipped.
"""
import random

rng = random.Random(20261124)

nodes = [
    # id, type, name, lat, lon, capabilities
    ("MFG-OH", "manufacturer", "Dayton plant", 39.7589, -84.1916, "dropship"),
    ("MFG-NC", "manufacturer", "Hickory plant", 35.7332, -81.3412, "dropship"),
    ("DC-NJ", "warehouse", "Edison DC", 40.5187, -74.4121, "ship"),
    ("DC-TX", "warehouse", "Dallas DC", 32.7767, -96.7970, "ship"),
    ("DC-CA", "warehouse", "Ontario CA DC", 34.0633, -117.6509, "ship"),
    ("ST-NYC", "store", "Manhattan", 40.7580, -73.9855, "ship|pickup"),
    ("ST-BOS", "store", "Boston", 42.3601, -71.0589, "ship|pickup"),
    ("ST-PHL", "store", "Philadelphia", 39.9526, -75.1652, "ship|pickup"),
    ("ST-CHI", "store", "Chicago", 41.8781, -87.6298, "ship|pickup"),
    ("ST-ATL", "store", "Atlanta", 33.7490, -84.3880, "ship|pickup"),
    ("ST-MIA", "store", "Miami", 25.7617, -80.1918, "ship|pickup"),
    ("ST-HOU", "store", "Houston", 29.7604, -95.3698, "ship|pickup"),
    ("ST-DEN", "store", "Denver", 39.7392, -104.9903, "ship|pickup"),
    ("ST-LAX", "store", "Los Angeles", 34.0522, -118.2437, "ship|pickup"),
    ("ST-SEA", "store", "Seattle", 47.6062, -122.3321, "ship|pickup"),
]

with open("nodes.csv", "w") as f:
    f.write("id,type,name,lat,lon,capabilities\n")
    for n in nodes:
        f.write("%s,%s,%s,%.4f,%.4f,%s\n" % n)

kinds = ["Tee", "Hoodie", "Sneaker", "Backpack", "Mug", "Lamp", "Blender", "Towel", "Jacket", "Cap"]
with open("skus.csv", "w") as f:
    f.write("sku,name,weight_g,price_minor\n")
    for i in range(1, 201):
        bulky = i > 180
        name = ("Sofa %d" % i) if bulky else "%s %d" % (kinds[i % len(kinds)], i)
        weight = rng.randint(20000, 60000) if bulky else rng.randint(100, 3000)
        price = rng.randint(29900, 149900) if bulky else rng.randint(499, 19999)
        f.write("SKU-%04d,%s,%d,%d\n" % (i, name, weight, price))

with open("stock.csv", "w") as f:
    f.write("node,sku,on_hand\n")
    for node, kind, *_ in nodes:
        for i in range(1, 201):
            bulky = i > 180
            if kind == "manufacturer":
                if bulky and (i % 2 == (0 if node == "MFG-OH" else 1) or i > 195):
                    f.write("%s,SKU-%04d,%d\n" % (node, i, rng.randint(50, 200)))
            elif bulky:
                continue
            elif kind == "warehouse" and rng.random() < 0.8:
                f.write("%s,SKU-%04d,%d\n" % (node, i, rng.randint(20, 200)))
            elif kind == "store" and rng.random() < 0.45:
                f.write("%s,SKU-%04d,%d\n" % (node, i, rng.randint(2, 20)))
