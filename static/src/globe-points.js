// Points on the globe: one disc per country at its centre, its area growing with the count (the
// realtime page's live visitors). Children of the sphere, so they turn with it.
import { CircleGeometry, Color, Mesh, MeshBasicMaterial, Vector3 } from "three";

const LIVE = "#16a34a";  // the realtime page's live dot (dashboard-controls.css, .live-dot)
const FACING = new Vector3(0, 0, 1);  // a CircleGeometry's normal

/** [lon, lat] in degrees → the point of the unit sphere under that texel of three's sphere. */
function onSphere([lon, lat], radius) {
  const phi = ((lon + 180) * Math.PI) / 180;
  const theta = ((90 - lat) * Math.PI) / 180;
  return [-Math.cos(phi) * Math.sin(theta) * radius, Math.cos(theta) * radius, Math.sin(phi) * Math.sin(theta) * radius];
}

/**
 * A layer of points on `globe` (a Mesh of radius 1).
 * @param {Record<string, [number, number]>} centre each country's [lon, lat]
 * @returns {{update(values: Record<string, number>): void, dispose(): void}}
 */
export function pointsLayer(globe, centre) {
  const geometry = new CircleGeometry(1, 32);
  const fill = new MeshBasicMaterial({ color: new Color(LIVE), transparent: true, opacity: 0.85 });
  const ring = new MeshBasicMaterial({ color: new Color("#ffffff") });
  let meshes = [];
  const clear = () => {
    for (const mesh of meshes) globe.remove(mesh);
    meshes = [];
  };
  return {
    update(values) {
      clear();
      const max = Math.max(1, ...Object.values(values));
      for (const [code, count] of Object.entries(values)) {
        if (!count || !centre[code]) continue;
        // Area by count: a country with a quarter of the busiest's visitors has half its radius.
        const radius = 0.015 + 0.035 * Math.sqrt(count / max);
        for (const [material, size, lift] of [[ring, radius * 1.25, 1.003], [fill, radius, 1.006]]) {
          const mesh = new Mesh(geometry, material);
          mesh.position.set(...onSphere(centre[code], lift));
          mesh.scale.setScalar(size);
          // Flat on the surface, facing outwards (in the sphere's own frame, however it is turned).
          mesh.quaternion.setFromUnitVectors(FACING, mesh.position.clone().normalize());
          globe.add(mesh);
          meshes.push(mesh);
        }
      }
    },
    dispose() {
      clear();
      geometry.dispose();
      fill.dispose();
      ring.dispose();
    },
  };
}
