// The brand page's own behaviour, independent of the widget.
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("host-counter");
  var count = 0;
  button.addEventListener("click", function () {
    count += 1;
    button.textContent = "Clicked " + count + (count === 1 ? " time" : " times");
  });
});
