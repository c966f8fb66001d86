"""Multi-room homes: floor plans (written by hand or generated from a seed), their furniture and maps.

Data flow: a :class:`~sim.homes.floorplan.FloorPlan` (rooms, doors, furniture) is either loaded from
YAML/JSON (``load_floorplan``), taken from the shipped named homes (``named_floorplan``) or generated
(``generate_floorplan``); ``sim.scenes.home.HomeScene`` builds it in PyBullet, and
``sim.homes.maps`` rasterizes it into the traversability map used by tasks and planners.
"""
